/* SPDX-License-Identifier: MIT */
#include "ir/eval.h"

#include <string.h>

#include "common/util.h"

void pc_packet_init(struct pc_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->dir = PC_DIR_IN;
	p->family = PC_FAM_IPV4;
	p->icmp_type = -1;
	p->ct_state = PC_CT_NEW;
}

bool pc_iface_match(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	/* "eth*": the kernel compares only the bytes before the star */
	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, name, n - 1) == 0;
	return strcmp(pattern, name) == 0;
}

/* @name (NULL: unknown, matching nothing) against the rule's `on` list. */
static bool iface_list_match(const struct pc_rule *r, const char *name)
{
	if (!name)
		return false;
	if (r->n_ifaces <= 1)
		return pc_iface_match(r->iface, name);
	for (size_t i = 0; i < r->n_ifaces; i++)
		if (pc_iface_match(r->ifaces[i], name))
			return true;
	return false;
}

/* The leaving interface of a forwarded packet against `out on`. */
static bool oiface_match(const struct pc_rule *r, const struct pc_packet *p)
{
	if (!p->oiface[0])
		return false;
	for (size_t i = 0; i < r->n_oifaces; i++)
		if (pc_iface_match(r->oifaces[i], p->oiface))
			return true;
	return false;
}

static bool l4_match(const struct pc_l4 *l, const struct pc_packet *p)
{
	if (l->proto != p->proto)
		return false;
	if (pc_proto_has_ports(l->proto))
		return pc_port_set_contains(&l->dports, p->dport);
	if (l->n_types == 0)
		return true;
	if (p->icmp_type < 0 || p->icmp_type > 255)
		return false;
	for (size_t i = 0; i < l->n_types; i++)
		if (l->types[i] == p->icmp_type)
			return true;
	return false;
}

/* Is the packet's destination in @d? */
static bool range_has(const struct pc_addr_range *d, const struct pc_packet *p)
{
	unsigned len = p->family == PC_FAM_IPV4 ? 4 : 16;

	return d->family == p->family && memcmp(d->lo, p->daddr, len) <= 0 &&
	       memcmp(p->daddr, d->hi, len) <= 0;
}

const struct pc_map_elem *pc_map_lookup(const struct pc_rule *r,
					const struct pc_packet *p)
{
	bool icmp = p->proto == PC_PROTO_ICMP || p->proto == PC_PROTO_ICMPV6;
	/* the last field of the key: the port, or the ICMP type (issue 15);
	 * a packet whose type is not known is in no element, as it matches
	 * no rule that names types (the only ICMP rules folded) */
	long v = icmp ? p->icmp_type : p->dport;

	if (!(r->families & p->family) || (!pc_proto_has_ports(p->proto) && !icmp))
		return NULL;
	/* one interface for all elements (issue 15): an exact name */
	if (r->iface && (!p->iface || strcmp(r->iface, p->iface) != 0))
		return NULL;
	/* forward rules: the one output interface of the run (issue 15) */
	if (r->n_oifaces && !oiface_match(r, p))
		return NULL;
	for (size_t i = 0; i < r->n_map; i++) {
		const struct pc_map_elem *e = &r->map[i];
		bool in = v >= 0 && e->dport.lo <= v && v <= e->dport.hi;

		if (e->proto == p->proto && in &&
		    pc_addr_contains(&e->saddr, p->family, p->saddr) &&
		    (!r->map_daddr || range_has(r->map_daddr[i], p)) &&
		    (!r->map_iface || (p->iface && strcmp(r->map_iface[i], p->iface) == 0)))
			return e;
	}
	return NULL;
}

/* Is @addr in @s? A dynamic set holds it when the packet says so. */
static bool addr_in(const struct pc_addr_set *s, const struct pc_packet *p,
		    const uint8_t *addr, const char *member)
{
	if (pc_addr_set_is_dynamic(s))
		return member && strcmp(member, s->name) == 0;
	return pc_addr_set_contains(s, p->family, addr);
}

/* The element of dispatch @d that @p lies in, or NULL. */
static const struct pc_dispatch_elem *dispatch_lookup(const struct pc_dispatch *d,
						      const struct pc_packet *p)
{
	if (!pc_proto_has_ports(p->proto))
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].family == p->family && d->v[i].proto == p->proto &&
		    d->v[i].dport.lo <= p->dport &&
		    p->dport <= d->v[i].dport.hi)
			return &d->v[i];
	return NULL;
}

/*
 * The first of @n @rules from @start that decides @p (inside a dispatch:
 * the class chain's rule), with its map element in *@elem (NULL for a
 * plain rule) and the index in @rules of the rule that led to it in *@at.
 */
static const struct pc_rule *rules_decide(const struct pc_rule *rules, size_t n, size_t start,
					  const struct pc_packet *p,
					  const struct pc_map_elem **elem,
					  enum pc_verdict *verdict, size_t *at)
{
	for (size_t i = start; i < n; i++) {
		const struct pc_rule *r = &rules[i], *got = NULL;

		*elem = NULL;
		if (r->dispatch) {
			const struct pc_dispatch_elem *d = dispatch_lookup(r->dispatch, p);
			size_t ignored;

			if (d && (r->families & p->family)) {
				const struct pc_chain *cls = &r->dispatch->classes[d->cls];

				got = rules_decide(cls->rules, cls->n, 0, p, elem, verdict, &ignored);
			}
		} else if (r->n_map) {
			*elem = pc_map_lookup(r, p);
			if (*elem) {
				*verdict = (*elem)->verdict;
				got = r;
			}
		} else if (pc_rule_match(r, p)) {
			*verdict = r->verdict;
			got = r;
		}
		if (got) {
			*at = i;
			return got;
		}
	}
	*elem = NULL;
	return NULL;
}

bool pc_rule_match(const struct pc_rule *r, const struct pc_packet *p)
{
	if (r->dispatch) {
		const struct pc_map_elem *e;
		enum pc_verdict v;
		size_t at;

		return rules_decide(r, 1, 0, p, &e, &v, &at) != NULL;
	}
	if (r->n_map)
		return pc_map_lookup(r, p) != NULL;
	if (!(r->families & p->family))
		return false;
	/* no interface, or one that is (not, with @iface_not) in the list */
	if (r->iface && (!p->iface || iface_list_match(r, p->iface) == r->iface_not))
		return false;
	if (r->n_oifaces && !oiface_match(r, p))
		return false;
	if (r->ct_state && !(r->ct_state & p->ct_state))
		return false;
	/* All must hold: the cheap, usually selective protocol test first. */
	if (r->n_l4) {
		size_t i;

		for (i = 0; i < r->n_l4; i++)
			if (l4_match(&r->l4[i], p))
				break;
		if (i == r->n_l4)
			return false;
	}
	if (r->sports.n && (!p->has_sport || !pc_port_set_contains(&r->sports, p->sport)))
		return false;
	return addr_in(&r->saddr, p, p->saddr, p->src_member) != r->saddr_not &&
	       addr_in(&r->daddr, p, p->daddr, p->dst_member) != r->daddr_not;
}

long pc_ir_eval(const struct pc_ir *ir, const struct pc_packet *p,
		enum pc_verdict *verdict)
{
	return pc_ir_eval_from(ir, p, 0, verdict);
}

long pc_ir_eval_from(const struct pc_ir *ir, const struct pc_packet *p,
		     size_t start, enum pc_verdict *verdict)
{
	const struct pc_map_elem *e;
	size_t at;

	if (!pc_ir_decide(ir, p, start, verdict, &e, &at))
		return -1;
	return (long)at;
}

const struct pc_rule *pc_ir_decide(const struct pc_ir *ir, const struct pc_packet *p,
				   size_t start, enum pc_verdict *verdict,
				   const struct pc_map_elem **elem, size_t *at)
{
	const struct pc_chain *c;
	const struct pc_rule *r;

	if ((unsigned)p->dir >= __PC_DIR_MAX)
		PC_BUG("packet direction %d", (int)p->dir);
	c = &ir->chains[p->dir];
	r = rules_decide(c->rules, c->n, start, p, elem, verdict, at);
	if (!r)
		*verdict = c->policy;
	return r;
}
