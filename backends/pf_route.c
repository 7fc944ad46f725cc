/* SPDX-License-Identifier: MIT */
/*
 * The pf backend's routed packets: the forward rules, written as out rules
 * where a packet leaves, and the NAT statements (see pf.c's top comment).
 */
#include <string.h>

#include "backends/pf.h"
#include "backends/text.h"
#include "common/util.h"
#include "ir/names.h"

/*
 * FreeBSD's pf.conf(5) has no received-on (FreeBSD 15.0 adds it): there,
 * a routed packet is tagged where it comes in by the interface it came in
 * by, "TABLE-forward-IFACE" for each interface (or group) a forward rule
 * names with `on`, "TABLE-forward" for any other, and a forward rule
 * matches the tag of its `on`, or every tag when it has none. A packet
 * gets one tag, from the first tagging rule that matches it, so the
 * interfaces must not overlap (a name and a wildcard it starts with, two
 * wildcards one of which starts with the other): that is an error.
 */
static size_t fwd_in_index(const struct pf *p, const char *iface)
{
	for (size_t i = 0; i < p->n_fwd_in; i++)
		if (strcmp(p->fwd_in[i], iface) == 0)
			return i;
	return p->n_fwd_in;
}

/* Whether interfaces @a and @b (names or prefix wildcards) can be one. */
static bool ifaces_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool wa = a[la - 1] == '*', wb = b[lb - 1] == '*';

	if (!wa && !wb)
		return strcmp(a, b) == 0;
	/* a wildcard whose prefix starts the other's name or prefix */
	if (wa && la - 1 <= lb && strncmp(a, b, la - 1) == 0)
		return true;
	return wb && lb - 1 <= la && strncmp(a, b, lb - 1) == 0;
}

void pf_check_forward_tags(struct pf *p)
{
	const struct pc_chain *c = &p->ir->chains[PC_DIR_FORWARD];

	p->n_fwd_in = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];
		size_t n = r->n_ifaces > 1 ? r->n_ifaces : r->iface ? 1 : 0;

		for (size_t k = 0; k < n; k++) {
			const char *iface = r->n_ifaces > 1 ? r->ifaces[k] : r->iface;

			if (fwd_in_index(p, iface) < p->n_fwd_in)
				continue;
			for (size_t j = 0; j < p->n_fwd_in; j++)
				if (ifaces_overlap(iface, p->fwd_in[j]))
					report(p, &r->loc,
					       "backend 'pf' (freebsd dialect) cannot express forward on '%s' beside forward on '%s': FreeBSD's pf has no received-on, routed packets are tagged by the interface they came in by, one tag each, and the two overlap",
					       iface, p->fwd_in[j]);
			/* PF_TAG_NAME_SIZE - 1 */
			if (strlen(p->forward_tag) + 1 + strlen(iface) > 63)
				report(p, &r->loc,
				       "backend 'pf' (freebsd dialect): the tag \"%s-%s\" of the packets that came in by '%s' is longer than pf's 63 bytes",
				       p->forward_tag, iface, iface);
			p->fwd_in = xgrow(p->fwd_in, &p->cap_fwd_in, p->n_fwd_in + 1,
					  sizeof(*p->fwd_in));
			p->fwd_in[p->n_fwd_in++] = iface;
		}
	}
}

/* The tag of the packets that came in by @iface (a forward rule's `on`). */
static char *tag_of(struct pf *p, const char *iface)
{
	return xasprintf("%s-%s", p->forward_tag, pf_iface(p, NULL, iface));
}

void pf_emit_forward_tags(struct pf *p)
{
	for (size_t i = 0; i < p->n_fwd_in; i++) {
		char *tag = tag_of(p, p->fwd_in[i]);

		pc_buf_printf(&p->rules, "pass in quick on %s tag \"%s\" %s\n",
			      pf_iface(p, NULL, p->fwd_in[i]), tag,
			      p->ir->options & PC_OPT_STATELESS ? "no state" : "keep state");
		free(tag);
	}
}

/*
 * Rule @r (one `on` interface at most) for the tags of the packets it
 * matches: OpenBSD, the one tag and received-on; FreeBSD, the tag of its
 * `on`, or each tag when it has none.
 */
static void emit_tagged(struct pf *p, const struct pc_rule *r)
{
	char *tag;

	if (p->openbsd || (r->iface && fwd_in_index(p, r->iface) == p->n_fwd_in)) {
		pf_emit_rule(p, PC_DIR_FORWARD, r);
		return;
	}
	if (r->iface) {
		tag = tag_of(p, r->iface);
		p->cur_tag = tag;
		pf_emit_rule(p, PC_DIR_FORWARD, r);
		p->cur_tag = p->forward_tag;
		free(tag);
		return;
	}
	for (size_t i = 0; i < p->n_fwd_in; i++) {
		tag = tag_of(p, p->fwd_in[i]);
		p->cur_tag = tag;
		pf_emit_rule(p, PC_DIR_FORWARD, r);
		free(tag);
	}
	p->cur_tag = p->forward_tag;
	pf_emit_rule(p, PC_DIR_FORWARD, r);
}

/*
 * A forward rule as out rules of the routed packets (see emit_chain()):
 * pf's received-on takes one interface, so an `on` list is a rule each.
 */
static void emit_forward(struct pf *p, const struct pc_rule *r)
{
	if (r->n_ifaces <= 1) {
		emit_tagged(p, r);
		return;
	}
	if (r->limit.rate) {
		report(p, &r->loc,
		       "backend 'pf' cannot express one rate limit for this rule: it becomes one rule per interface of its 'on' list (received-on takes one) and max-pkt-rate counts per rule");
		return;
	}
	for (size_t i = 0; i < r->n_ifaces; i++) {
		struct pc_rule one = *r;

		one.iface = r->ifaces[i];
		one.n_ifaces = 0;
		one.ifaces = NULL;
		emit_tagged(p, &one);
	}
}

/*
 * The routed packets, in the out section: pf knows both interfaces only
 * where a packet leaves (`on` the leaving one, `received-on` the one it
 * came in by), so the forward rules are out rules of the packets the in
 * section tagged, ending with the forward default; the out rules after
 * them decide only this host's own packets.
 */
void pf_emit_forward_chain(struct pf *p)
{
	const struct pc_chain *c = &p->ir->chains[PC_DIR_FORWARD];

	pc_buf_printf(&p->rules, "\n# forward: default %s\n"
		      "# routed packets, decided where they leave (%s: where they came in)\n",
		      pc_verdict_name(c->policy), p->openbsd ? "received-on" : "tagged");
	for (size_t i = 0; i < c->n; i++) {
		if (pf_rule_written(p, PC_DIR_FORWARD, &c->rules[i]))
			emit_forward(p, &c->rules[i]);
		pf_flush(p, false);
	}
	if (pc_text_chain_closed(c))
		return;
	for (size_t i = 0; !p->openbsd && i < p->n_fwd_in; i++) {
		char *tag = tag_of(p, p->fwd_in[i]);

		p->cur_tag = tag;
		pf_put_default(p, PC_DIR_FORWARD, PC_DIR_FORWARD);
		free(tag);
	}
	p->cur_tag = p->forward_tag;
	pf_put_default(p, PC_DIR_FORWARD, PC_DIR_FORWARD);
}

/*
 * One pf translation rule of NAT statement @n for interface @iface (NULL:
 * any), family @fam and protocol @l4 (NULL: any). OpenBSD: a `match` rule
 * with nat-to / rdr-to (it translates and decides nothing; the filter
 * rules after it see the translated packet); FreeBSD: the translation
 * rules `nat on ... ->` and `rdr on ... ->`, which pf applies before the
 * filter rules.
 */
static void put_nat(struct pf *p, struct pc_buf *b, const struct pc_nat_rule *n,
		    const char *iface, unsigned fam, const struct pc_l4 *l4)
{
	bool dnat = n->kind == PC_NAT_DNAT;

	if (p->openbsd)
		pc_buf_printf(b, "match %s", dnat ? "in" : "out");
	else
		pc_buf_puts(b, dnat ? "rdr" : "nat");
	if (iface)
		pc_buf_printf(b, " on %s", iface);
	pc_buf_puts(b, fam == PC_FAM_IPV4 ? " inet" : " inet6");
	if (l4) {
		pc_buf_puts(b, " proto ");
		pf_put_proto(b, l4->proto);
	}
	pc_buf_puts(b, " from ");
	pf_put_hosts(p, b, &n->saddr, fam);
	pc_buf_puts(b, " to ");
	pf_put_hosts(p, b, &n->daddr, fam);
	if (l4 && pc_proto_has_ports(l4->proto) && l4->dports.n)
		pf_put_ports(b, &l4->dports);
	pc_buf_puts(b, p->openbsd ? (dnat ? " rdr-to " : " nat-to ") : " -> ");
	/* masquerade: the interface's address, followed when it changes */
	if (n->kind == PC_NAT_MASQUERADE)
		pc_buf_printf(b, "(%s)", iface);
	else
		pc_text_addr(b, &n->to, true);
	if (n->to_port)
		pc_buf_printf(b, " port %u", n->to_port);
	pc_buf_putc(b, '\n');
}

/* Could NAT statement @n and forward rule @r name the same leaving interface? */
static bool same_way_out(const struct pc_nat_rule *n, const struct pc_rule *r)
{
	size_t nn = n->n_ifaces > 1 ? n->n_ifaces : n->iface ? 1 : 0;

	if (!nn || !r->n_oifaces)
		return true;
	for (size_t i = 0; i < nn; i++)
		for (size_t k = 0; k < r->n_oifaces; k++)
			if (strcmp(nn > 1 ? n->ifaces[i] : n->iface, r->oifaces[k]) == 0)
				return true;
	return false;
}

/*
 * pf filters a leaving packet after its source translation (the forward
 * rules here are out rules), where nft and iptables filter before it: a
 * forward rule that matches source addresses would no longer see them.
 */
static void check_nat_sources(struct pf *p)
{
	const struct pc_chain *c = &p->ir->chains[PC_DIR_FORWARD];

	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];

		if (r->origin != PC_ORIGIN_POLICY || !r->saddr.n)
			continue;
		for (size_t k = 0; k < p->ir->n_nat; k++) {
			const struct pc_nat_rule *n = &p->ir->nat[k];

			if (n->kind == PC_NAT_DNAT || !same_way_out(n, r))
				continue;
			report(p, &r->loc,
			       "backend 'pf' cannot express a forward rule matching source addresses where %s at %s:%u translates them: pf filters a leaving packet after its source translation",
			       pc_nat_kind_name(n->kind), n->loc.file, n->loc.line);
			break;
		}
	}
}

/* The NAT statements, before every filter rule (see put_nat()). */
void pf_emit_nat(struct pf *p, struct pc_buf *b)
{
	static const unsigned fams[2] = { PC_FAM_IPV4, PC_FAM_IPV6 };

	if (!p->ir->n_nat)
		return;
	check_nat_sources(p);
	pc_buf_printf(b, "\n# NAT: translations only, the filter rules below decide (%s)\n",
		      p->openbsd ? "match rules with nat-to and rdr-to" :
				   "nat and rdr rules, applied before the filter rules");
	for (size_t i = 0; i < p->ir->n_nat; i++) {
		const struct pc_nat_rule *n = &p->ir->nat[i];
		size_t ni = n->n_ifaces > 1 ? n->n_ifaces : 1;
		struct pc_rule loc = { .origin = PC_ORIGIN_POLICY, .loc = n->loc, .comment = n->comment };

		if (n->kind == PC_NAT_MASQUERADE && !n->iface) {
			report(p, &n->loc,
			       "backend 'pf' cannot express a masquerade without 'on IFACE': nat-to takes the address of a named interface");
			continue;
		}
		for (size_t k = 0; k < ni; k++) {
			const char *iface = n->n_ifaces > 1 ? n->ifaces[k] : n->iface;

			/*
			 * nat-to (GROUP) takes the addresses of every interface
			 * in the group, in turn: not the leaving one's
			 */
			if (iface && n->kind == PC_NAT_MASQUERADE &&
			    iface[strlen(iface) - 1] == '*') {
				report(p, &n->loc,
				       "backend 'pf' cannot express a masquerade on interface wildcard '%s': the address of an interface group is every member's address, not the leaving interface's",
				       iface);
				continue;
			}
			if (iface) {
				iface = pf_iface(p, &n->loc, iface);
				if (!iface)
					continue;
			}
			pf_put_comment_line_to(b, PC_DIR_IN, &loc);
			for (size_t f = 0; f < 2; f++) {
				if (!(n->families & fams[f]))
					continue;
				if ((n->saddr.n && !pf_set_in_families(&n->saddr, fams[f])) ||
				    (n->daddr.n && !pf_set_in_families(&n->daddr, fams[f])))
					continue;
				if (!n->n_l4)
					put_nat(p, b, n, iface, fams[f], NULL);
				for (size_t a = 0; a < n->n_l4; a++) {
					unsigned proto = n->l4[a].proto;

					if ((proto == PC_PROTO_ICMP && fams[f] != PC_FAM_IPV4) ||
					    (proto == PC_PROTO_ICMPV6 && fams[f] != PC_FAM_IPV6))
						continue;
					put_nat(p, b, n, iface, fams[f], &n->l4[a]);
				}
			}
		}
	}
}
