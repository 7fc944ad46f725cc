/* SPDX-License-Identifier: MIT */
/*
 * Differential test of `portcullis compare` (core/ir/regions.c): for random
 * policy pairs, NEW being OLD with one random edit (a rule added, removed,
 * moved or changed, or a member of a group changed), every packet at every
 * edge of every printed region (the first and last value of each dimension
 * and the values just outside), plus random packets in the same small
 * space, gets a different verdict from OLD and NEW (the reference
 * evaluator) exactly when it lies in a region. Then each result is mutated
 * (one region dropped, or one edge of one region moved by one) and the same
 * check must notice: a comparison that is off by one fails this test.
 * Then `expect` the same way (test_random_expects).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ir/eval.h"
#include "ir/optimize.h"
#include "ir/regions.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static struct pc_registry *reg;
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static unsigned pick(unsigned n)
{
	return rnd() % n;
}

static int setup(void **state)
{
	struct pc_diag *d = pc_diag_create();

	(void)state;
	reg = pc_registry_create();
	if (pc_registry_load(reg, PC_SOURCE_DATADIR "/service-names-port-numbers.csv", false, d))
		return -1;
	pc_registry_finish(reg);
	pc_diag_destroy(d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pc_registry_destroy(reg);
	return 0;
}

/* ---- random policies: small spaces, so that rules overlap ---- */

static void rand_prefix(struct pc_buf *b, bool v4)
{
	if (!v4 && pick(4) == 0) {
		unsigned plen = 120 + pick(9), x = rnd() & 0xff;

		if (plen < 128)
			x &= (0xffu << (128 - plen)) & 0xff;
		pc_buf_printf(b, "2001:db8::%x/%u", x, plen);
	} else {
		unsigned plen = 24 + pick(9), x = rnd() & 0xff;

		if (plen < 32)
			x &= (0xffu << (32 - plen)) & 0xff;
		pc_buf_printf(b, "192.0.2.%u/%u", x, plen);
	}
}

/* rand_rule() writes an expectation: no `limit` */
static bool no_limits;

static void rand_rule(struct pc_buf *b)
{
	static const char *const verdicts[] = { "allow", "deny", "reject" };
	static const char *const dirs[] = { "in", "in", "in", "out", "forward" };
	static const char *const protos[] = { "tcp", "udp", "sctp" };

	const char *dir = dirs[pick(5)];
	bool icmp = false;

	pc_buf_printf(b, "%s %s", verdicts[pick(3)], dir);
	if (pick(5) == 0) {
		/* names, prefixes, lists and (issue 14) negations */
		static const char *const on[] = { "eth0", "eth*", "{ eth0, wlan0 }",
						  "not eth0", "not eth*", "{ \"wlan*\", eth1 }" };

		pc_buf_printf(b, " on %s", on[pick(6)]);
	}
	if (dir[0] == 'f' && pick(2) == 0) {
		/* the leaving interface: names, prefixes, lists */
		static const char *const out[] = { "eth0", "eth*", "{ eth1, wg0 }", "wg*" };

		pc_buf_printf(b, " out on %s", out[pick(4)]);
	}
	switch (pick(6)) {
	case 0:
		pc_buf_printf(b, " proto %s", protos[pick(3)]);
		break;
	case 1:
		pc_buf_printf(b, " icmp %s", pick(2) ? "echo-request" : "timestamp-request");
		icmp = true;
		break;
	case 2:
		pc_buf_printf(b, " port %u-%u/%s", 1000 + pick(20), 1020 + pick(20), protos[pick(2)]);
		break;
	default:
		pc_buf_printf(b, " port %u/%s", 1000 + pick(30), protos[pick(3)]);
		break;
	}
	/* issue 14: source ports, next to the points' (rand_point()) */
	if (!icmp && pick(5) == 0) {
		unsigned lo = 2000 + pick(16);

		pc_buf_printf(b, " source-port %u-%u", lo, lo + pick(6));
	}
	switch (pick(8)) {
	case 6:
		/* a dynamic set: its members unknown */
		pc_buf_puts(b, pick(2) ? " from $dyn" : " to $dyn");
		break;
	case 7:
		/* an expectation states what packets get: no limit */
		pc_buf_puts(b, no_limits ? " from $dyn" :
			       pick(2) ? " from $dyn limit 5/second" : " from $dyn limit 5/second per source");
		break;
	case 4:
		/* negation: the rest of the family */
		pc_buf_puts(b, icmp ? "" : " from not $g");
		break;
	case 5:
		pc_buf_puts(b, " to not ");
		rand_prefix(b, icmp);
		break;
	case 0:
		pc_buf_puts(b, icmp ? "" : " from $g");
		break;
	case 1:
		pc_buf_puts(b, " from ");
		rand_prefix(b, icmp);
		break;
	case 2:
		pc_buf_puts(b, " to ");
		rand_prefix(b, icmp);
		break;
	default:
		break;
	}
}

struct pol {
	char *group[3];      /* the members of hosts g */
	char *rules[24];
	size_t n;
	const char *dflt;
	char *nat[4];        /* issue 16: NAT rules */
	size_t n_nat;
};

/* With NAT rules (issue 16) in the pairs drawn. */
static bool with_nat;

/*
 * A NAT rule in the same small space: dnat of the ports the filter rules
 * use to an address and port they match, masquerade and snat.
 */
static char *new_nat(void)
{
	static const char *const on[] = { "eth0", "eth*", "wg0", "eth1" };
	struct pc_buf b;
	bool v6;

	pc_buf_init(&b);
	switch (pick(6)) {
	case 5:
		/* a broad one: every port of a protocol, kept */
		pc_buf_printf(&b, "dnat%s proto %s -> 192.0.2.%u", pick(2) ? "" : " on eth*",
			      pick(3) ? "tcp" : "udp", pick(2) ? pick(256) : 64 * pick(4) + 5);
		break;
	case 0:
		pc_buf_printf(&b, "masquerade on %s", on[pick(4)]);
		if (pick(2)) {
			pc_buf_puts(&b, " from ");
			rand_prefix(&b, true);
		}
		break;
	case 1:
		pc_buf_printf(&b, "snat on %s", on[pick(4)]);
		if (pick(2)) {
			pc_buf_puts(&b, " from ");
			rand_prefix(&b, true);
		}
		pc_buf_printf(&b, " -> 192.0.2.%u", pick(256));
		break;
	default:
		pc_buf_puts(&b, "dnat");
		if (pick(2))
			pc_buf_printf(&b, " on %s", on[pick(4)]);
		if (pick(3) == 0)
			pc_buf_printf(&b, " port %u-%u/tcp", 995 + pick(20), 1015 + pick(30));
		else
			pc_buf_printf(&b, " port %u/%s", 995 + pick(50), pick(3) ? "tcp" : "udp");
		v6 = pick(4) == 0;
		if (pick(3) == 0 && !v6) {
			pc_buf_puts(&b, " from ");
			rand_prefix(&b, true);
		}
		if (v6)
			pc_buf_printf(&b, " -> [2001:db8::%x]:%u", pick(256), 1000 + pick(30));
		else if (pick(3))
			pc_buf_printf(&b, " -> 192.0.2.%u:%u", pick(2) ? pick(256) : 64 * pick(4) + 5,
				      1000 + pick(30));
		else
			pc_buf_printf(&b, " -> 192.0.2.%u", pick(2) ? pick(256) : 64 * pick(4) + 5);
		break;
	}
	return b.data;
}

static char *new_rule(void)
{
	struct pc_buf b;

	pc_buf_init(&b);
	rand_rule(&b);
	return b.data;
}

static char *new_member(void)
{
	struct pc_buf b;

	pc_buf_init(&b);
	rand_prefix(&b, false);
	return b.data;
}

static char *pol_text(const struct pol *p)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_printf(&b, "table t\ntransports tcp, udp, sctp\nhosts g = { %s, %s, %s }\n"
		      "hosts dyn = dynamic\ndefault in %s\n", p->group[0], p->group[1], p->group[2], p->dflt);
	for (size_t i = 0; i < p->n; i++)
		pc_buf_printf(&b, "%s\n", p->rules[i]);
	for (size_t i = 0; i < p->n_nat; i++)
		pc_buf_printf(&b, "%s\n", p->nat[i]);
	return b.data;
}

static void pol_free(struct pol *p)
{
	for (int i = 0; i < 3; i++)
		free(p->group[i]);
	for (size_t i = 0; i < p->n; i++)
		free(p->rules[i]);
	for (size_t i = 0; i < p->n_nat; i++)
		free(p->nat[i]);
}

static void pol_copy(struct pol *dst, const struct pol *src)
{
	*dst = *src;
	for (int i = 0; i < 3; i++)
		dst->group[i] = xstrdup(src->group[i]);
	for (size_t i = 0; i < src->n; i++)
		dst->rules[i] = xstrdup(src->rules[i]);
	for (size_t i = 0; i < src->n_nat; i++)
		dst->nat[i] = xstrdup(src->nat[i]);
}

/* One random edit: add, remove, move or change a rule, or change a group member. */
static void pol_edit(struct pol *p)
{
	size_t i, j;
	char *r;

	/* issue 16: a NAT rule added, removed, moved or changed (its target too) */
	if (with_nat && pick(2)) {
		i = pick((unsigned)p->n_nat + 1);
		if (i == p->n_nat && p->n_nat < 4) {
			p->nat[p->n_nat++] = new_nat();
		} else if (i < p->n_nat && pick(3) == 0) {
			free(p->nat[i]);
			memmove(p->nat + i, p->nat + i + 1, (p->n_nat - i - 1) * sizeof(char *));
			p->n_nat--;
		} else if (i < p->n_nat && pick(2) && p->n_nat > 1) {
			j = (i + 1) % p->n_nat;
			r = p->nat[i];
			p->nat[i] = p->nat[j];
			p->nat[j] = r;
		} else if (i < p->n_nat) {
			free(p->nat[i]);
			p->nat[i] = new_nat();
		} else {
			p->nat[0] = (free(p->nat[0]), new_nat());
		}
		return;
	}
	switch (pick(6)) {
	case 5:
		/* the default: one region for the packets no rule matches */
		p->dflt = p->dflt[0] == 'a' ? (pick(2) ? "deny" : "reject") : "allow";
		return;
	case 0:
		if (p->n < 24) {
			i = pick((unsigned)p->n + 1);
			memmove(p->rules + i + 1, p->rules + i, (p->n - i) * sizeof(char *));
			p->rules[i] = new_rule();
			p->n++;
			return;
		}
		/* fall through */
	case 1:
		if (p->n) {
			i = pick((unsigned)p->n);
			free(p->rules[i]);
			memmove(p->rules + i, p->rules + i + 1, (p->n - i - 1) * sizeof(char *));
			p->n--;
			return;
		}
		/* fall through */
	case 2:
		if (p->n > 1) {
			i = pick((unsigned)p->n);
			j = pick((unsigned)p->n);
			r = p->rules[i];
			memmove(p->rules + i, p->rules + i + 1, (p->n - i - 1) * sizeof(char *));
			memmove(p->rules + j + 1, p->rules + j, (p->n - 1 - j) * sizeof(char *));
			p->rules[j] = r;
			return;
		}
		/* fall through */
	case 3:
		if (p->n) {
			i = pick((unsigned)p->n);
			free(p->rules[i]);
			p->rules[i] = new_rule();
			return;
		}
		/* fall through */
	default:
		i = pick(3);
		free(p->group[i]);
		p->group[i] = new_member();
		return;
	}
}

static struct pc_ir *load(const char *name, const char *text)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer(name, text, strlen(text), reg,
						 PC_POLICY_NO_LINT, d);

	if (!ir) {
		pc_diag_print(d, stderr, false);
		fprintf(stderr, "%s", text);
	}
	pc_diag_destroy(d);
	return ir;
}

/* ---- packets ---- */

/* A packet as a point of the box dimensions. */
struct point {
	enum pc_direction dir;
	unsigned fam;
	uint64_t v[__PC_RG_DIM_MAX];   /* addresses: the low 64 bits, see below */
	uint64_t addr_hi[2];            /* IPv6: the high 64 bits of saddr, daddr */
};

static void to_packet(const struct point *pt, const struct pc_rg_ifaces *ifs,
		      struct pc_packet *p, char *ifbuf, size_t iflen)
{
	pc_packet_init(p);
	p->dir = pt->dir;
	p->family = pt->fam;
	p->proto = (uint8_t)pt->v[PC_RG_PROTO];
	for (int k = 0; k < 2; k++) {
		uint8_t *a = k ? p->daddr : p->saddr;
		uint64_t lo = pt->v[PC_RG_SADDR + k], hi = pt->addr_hi[k];

		if (pt->fam == PC_FAM_IPV4) {
			for (int i = 0; i < 4; i++)
				a[i] = (uint8_t)(lo >> (24 - 8 * i));
		} else {
			for (int i = 0; i < 8; i++) {
				a[i] = (uint8_t)(hi >> (56 - 8 * i));
				a[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
			}
		}
	}
	if (pc_proto_has_ports(p->proto)) {
		p->dport = (uint16_t)pt->v[PC_RG_DPORT];
		p->has_sport = true;
		p->sport = (uint16_t)pt->v[PC_RG_SPORT];
	}
	else if (p->proto == PC_PROTO_ICMP || p->proto == PC_PROTO_ICMPV6)
		p->icmp_type = (int)(pt->v[PC_RG_DPORT] & 0xff);
	p->iface = pc_rg_iface_example(ifs, (size_t)pt->v[PC_RG_IFACE], ifbuf, iflen);
	/* forward, and (issue 16) in: where a dnat would send it */
	if (p->dir == PC_DIR_FORWARD || p->dir == PC_DIR_IN) {
		char obuf[32];

		snprintf(p->oiface, sizeof(p->oiface), "%s",
			 pc_rg_iface_example(ifs, (size_t)pt->v[PC_RG_OIFACE], obuf, sizeof(obuf)));
	}
	p->ct_state = 1u << pt->v[PC_RG_STATE];
}

static bool in_iv(const struct pc_rg_iv *iv, uint64_t hi, uint64_t lo)
{
	struct pc_u128 x = { hi, lo };

	return pc_u128_cmp(iv->lo, x) <= 0 && pc_u128_cmp(x, iv->hi) <= 0;
}

/*
 * What decides a packet in one IR (issue 16: after its translation), as
 * struct pc_rg_side says it for each enum pc_rg_what.
 */
struct outcome {
	enum pc_verdict v;
	long rule;                  /* in the chain of @judged */
	long dnat, snat;            /* the translating rules, -1 none */
	struct pc_packet judged;    /* the packet the filter sees */
};

/* Is @pt in region @d, whose sides are what @o and @n decide? */
static bool in_region(const struct pc_rg_diff *d, const struct point *pt,
		      const struct outcome *o, const struct outcome *n)
{
	if (d->dir != pt->dir || !(d->box.fam & pt->fam))
		return false;
	/* a region with @rest holds the packets of its box with its deciders */
	if (d->rest) {
		switch (d->what) {
		case PC_RG_VERDICT:
			if (o->rule != d->old.rule || n->rule != d->new.rule ||
			    o->dnat != d->old.nat || n->dnat != d->new.nat)
				return false;
			break;
		case PC_RG_DNAT:
			if (o->dnat != d->old.nat || n->dnat != d->new.nat)
				return false;
			break;
		case PC_RG_SNAT:
			if (o->snat != d->old.nat || n->snat != d->new.nat)
				return false;
			break;
		}
	}
	for (int k = 0; k < __PC_RG_DIM_MAX; k++) {
		uint64_t hi = 0;

		if (k == PC_RG_SADDR || k == PC_RG_DADDR)
			hi = pt->addr_hi[k - PC_RG_SADDR];
		/* ports of a protocol without ports, and ICMP types, as the box holds them */
		if (k == PC_RG_DPORT && !pc_proto_has_ports((unsigned)pt->v[PC_RG_PROTO]) &&
		    pt->v[PC_RG_PROTO] != PC_PROTO_ICMP && pt->v[PC_RG_PROTO] != PC_PROTO_ICMPV6)
			continue;
		if (!in_iv(&d->box.d[k], hi, pt->v[k]))
			return false;
	}
	return true;
}

static size_t checked;

/*
 * The reference evaluator on @ir (OLD or NEW of @r) with the conditions
 * of the point: a dynamic set holds the packet's address when its
 * condition is 1 (the evaluator takes them as empty), a limited rule is
 * over its rate when its condition is 1 (the evaluator: never).
 */
static long eval_cond(const struct pc_ir *ir, bool is_new, const struct pc_rg_result *r,
		      const struct point *pt, const struct pc_packet *p, enum pc_verdict *v)
{
	const struct pc_chain *ch = &ir->chains[p->dir];
	struct pc_ir var = *ir;
	struct pc_rule *rules;
	long idx;

	if (r->n_conds == 0 || ch->n == 0)
		return pc_ir_eval(ir, p, v);
	rules = xmalloc(ch->n * sizeof(*rules));
	memcpy(rules, ch->rules, ch->n * sizeof(*rules));
	for (size_t i = 0; i < ch->n; i++)
		for (size_t k = 0; k < r->n_conds; k++) {
			const struct pc_rg_cond *c = &r->conds[k];
			bool holds = pt->v[c->dim] == 1;
			struct pc_rule *x = &rules[i];

			if (!holds || !pc_rg_cond_in(c, pt->dir))
				continue;
			/* a set holding the address: as "any" */
			if (c->kind == PC_RG_COND_SRC_IN && pc_addr_set_is_dynamic(&x->saddr) &&
			    strcmp(x->saddr.name, c->set) == 0)
				x->saddr = (struct pc_addr_set){ 0 };
			if (c->kind == PC_RG_COND_DST_IN && pc_addr_set_is_dynamic(&x->daddr) &&
			    strcmp(x->daddr.name, c->set) == 0)
				x->daddr = (struct pc_addr_set){ 0 };
			/* a limit of the chain of the packet as it came in (issue
			 * 16: after a dnat, forward's count as never exceeded) */
			if (c->kind == PC_RG_COND_OVER && c->dir == pt->dir && c->dir == p->dir &&
			    (is_new ? c->new_rule : c->old_rule) == (long)i)
				x->families = 0;
		}
	var.chains[p->dir].rules = rules;
	idx = pc_ir_eval(&var, p, v);
	free(rules);
	return idx;
}

/*
 * The reference, as explain takes a packet (issue 16): the dnat first,
 * the filter on the translated packet, the source translation of it.
 * (The source translation only matters for a packet the filter lets
 * through; compare speaks of it for every packet, and so does this.)
 */
static void reference(const struct pc_ir *ir, bool is_new, const struct pc_rg_result *r,
		      const struct point *pt, const struct pc_packet *p, struct outcome *o)
{
	o->dnat = pc_ir_dnat(ir, p, &o->judged);
	if (o->dnat < 0)
		o->judged = *p;
	o->rule = eval_cond(ir, is_new, r, pt, &o->judged, &o->v);
	o->snat = pc_ir_snat(ir, &o->judged);
}

/* Do @o and @n differ in @what? */
static bool outcome_differs(const struct pc_ir *oi, const struct pc_ir *ni,
			    const struct outcome *o, const struct outcome *n, enum pc_rg_what what)
{
	const struct pc_nat_rule *a, *b;

	switch (what) {
	case PC_RG_VERDICT:
		return o->v != n->v;
	case PC_RG_DNAT:
		/* the same translated packet is the same translation */
		if ((o->dnat < 0) != (n->dnat < 0))
			return true;
		return o->dnat >= 0 && (memcmp(o->judged.daddr, n->judged.daddr, 16) != 0 ||
					o->judged.dport != n->judged.dport);
	case PC_RG_SNAT:
		if ((o->snat < 0) != (n->snat < 0))
			return true;
		if (o->snat < 0)
			return false;
		a = &oi->nat[o->snat];
		b = &ni->nat[n->snat];
		return a->kind != b->kind ||
		       (a->kind != PC_NAT_MASQUERADE && memcmp(a->to.a, b->to.a, 16) != 0);
	}
	return false;
}

/* Checks one point; returns false on a mismatch. */
static bool check_point(const struct pc_ir *o, const struct pc_ir *n,
			const struct pc_rg_result *r, const struct point *pt)
{
	struct pc_packet p;
	char ifbuf[32];
	struct outcome ro, rn;
	bool ok = true;

	to_packet(pt, &r->ifaces, &p, ifbuf, sizeof(ifbuf));
	reference(o, false, r, pt, &p, &ro);
	reference(n, true, r, pt, &p, &rn);
	for (int what = PC_RG_VERDICT; what <= PC_RG_SNAT; what++) {
		bool differs = outcome_differs(o, n, &ro, &rn, (enum pc_rg_what)what), inside = false;

		for (size_t i = 0; i < r->n && !inside; i++)
			inside = r->v[i].what == (enum pc_rg_what)what &&
				 in_region(&r->v[i], pt, &ro, &rn);
		ok &= differs == inside;
	}
	checked++;
	return ok;
}

/* Is @pt, a witness of @d, a packet of @d (deciders included)? */
static bool witness_inside(const struct pc_ir *o, const struct pc_ir *n,
			  const struct pc_rg_result *r, const struct pc_rg_diff *d,
			  const struct point *pt)
{
	struct pc_packet p;
	char ifbuf[32];
	struct outcome ro, rn;

	to_packet(pt, &r->ifaces, &p, ifbuf, sizeof(ifbuf));
	reference(o, false, r, pt, &p, &ro);
	reference(n, true, r, pt, &p, &rn);
	return outcome_differs(o, n, &ro, &rn, d->what) && in_region(d, pt, &ro, &rn);
}

/* Clamps @x into the dimension's values for the point's family and protocol. */
static uint64_t dim_max(int k, const struct point *pt)
{
	switch (k) {
	case PC_RG_IFACE:
	case PC_RG_OIFACE:
		return UINT64_MAX;   /* clipped by the caller */
	case PC_RG_STATE:
		return 3;
	case PC_RG_PROTO:
		return 255;
	case PC_RG_DPORT:
		return pc_proto_has_ports((unsigned)pt->v[PC_RG_PROTO]) ? 65535 : 255;
	case PC_RG_SPORT:
		return 65535;
	case PC_RG_SADDR:
	case PC_RG_DADDR:
		return pt->fam == PC_FAM_IPV4 ? UINT32_MAX : UINT64_MAX;
	default:
		return 1;     /* the conditions */
	}
}

/* A random point in the small space the policies use. */
static void rand_point(struct point *pt, size_t n_ifaces)
{
	static const unsigned protos[] = { 6, 17, 132, 1, 58, 47, 6, 17 };

	memset(pt, 0, sizeof(*pt));
	pt->dir = pick(3) ? PC_DIR_IN : pick(2) ? PC_DIR_OUT : PC_DIR_FORWARD;
	pt->fam = pick(3) ? PC_FAM_IPV4 : PC_FAM_IPV6;
	pt->v[PC_RG_IFACE] = pick((unsigned)n_ifaces + 1);
	pt->v[PC_RG_OIFACE] = pick((unsigned)n_ifaces + 1);
	for (int k = PC_RG_COND0; k < __PC_RG_DIM_MAX; k++)
		pt->v[k] = pick(2);
	pt->v[PC_RG_STATE] = pick(6) ? 0 : pick(4);
	pt->v[PC_RG_PROTO] = protos[pick(8)];
	pt->v[PC_RG_DPORT] = pc_proto_has_ports((unsigned)pt->v[PC_RG_PROTO]) ?
		995 + pick(50) : pick(20);
	pt->v[PC_RG_SPORT] = pc_proto_has_ports((unsigned)pt->v[PC_RG_PROTO]) ?
		1995 + pick(30) : 0;
	for (int k = 0; k < 2; k++) {
		if (pt->fam == PC_FAM_IPV4) {
			pt->v[PC_RG_SADDR + k] = 0xc0000200u | pick(256);
		} else {
			pt->addr_hi[k] = 0x20010db800000000ull;
			pt->v[PC_RG_SADDR + k] = pick(256);
		}
	}
}

/* Every point at an edge of every region, plus random ones. Returns the mismatches. */
static size_t check_all(const struct pc_ir *o, const struct pc_ir *n,
			const struct pc_rg_result *r, const struct pc_rg_result *claim,
			unsigned n_random, uint64_t seed)
{
	size_t bad = 0;
	uint64_t saved = rng_state;

	rng_state = seed;
	for (size_t i = 0; i < r->n; i++) {
		const struct pc_rg_diff *d = &r->v[i];

		for (int k = 0; k < __PC_RG_DIM_MAX; k++)
			for (int e = 0; e < 4; e++) {
				struct point pt;
				const struct pc_rg_iv *iv;
				uint64_t x, max;

				memset(&pt, 0, sizeof(pt));
				pt.dir = d->dir;
				pt.fam = d->box.fam & PC_FAM_IPV4 ? PC_FAM_IPV4 : PC_FAM_IPV6;
				if (d->box.fam == PC_FAM_ALL && pick(2))
					pt.fam = PC_FAM_IPV6;
				/* the other dimensions at their first or last value */
				for (int j = 0; j < __PC_RG_DIM_MAX; j++) {
					iv = &d->box.d[j];
					pt.v[j] = pick(2) ? iv->lo.lo : iv->hi.lo;
					if (j == PC_RG_SADDR || j == PC_RG_DADDR)
						pt.addr_hi[j - PC_RG_SADDR] = pick(2) ? iv->lo.hi : iv->hi.hi;
				}
				for (int j = 0; j < __PC_RG_DIM_MAX; j++) {
					if (j == PC_RG_SADDR || j == PC_RG_DADDR) {
						if (pt.fam == PC_FAM_IPV4) {
							pt.addr_hi[j - PC_RG_SADDR] = 0;
							if (pt.v[j] > UINT32_MAX)
								pt.v[j] = UINT32_MAX;
						}
					}
				}
				if (pt.v[PC_RG_PROTO] == PC_PROTO_ICMP || pt.v[PC_RG_PROTO] == PC_PROTO_ICMPV6 ||
				    !pc_proto_has_ports((unsigned)pt.v[PC_RG_PROTO]))
					if (pt.v[PC_RG_DPORT] > 255)
						pt.v[PC_RG_DPORT] = 255;
				/* then this dimension at lo, hi, lo - 1, hi + 1 */
				iv = &d->box.d[k];
				x = e == 0 || e == 2 ? iv->lo.lo : iv->hi.lo;
				max = dim_max(k, &pt);
				if (k == PC_RG_IFACE || k == PC_RG_OIFACE)
					max = r->ifaces.n;
				if (e == 2 && x == 0)
					continue;
				if (e == 3 && x >= max)
					continue;
				x = e == 2 ? x - 1 : e == 3 ? x + 1 : x;
				if (x > max)
					x = max;
				pt.v[k] = x;
				if (!pc_proto_has_ports((unsigned)pt.v[PC_RG_PROTO]) &&
				    pt.v[PC_RG_DPORT] > 255)
					pt.v[PC_RG_DPORT] = 255;
				if (!check_point(o, n, claim, &pt))
					bad++;
			}
	}
	/* the corners of each bounded region's witness, which lie inside it */
	for (size_t i = 0; i < r->n; i++)
		for (int e = 0; r->v[i].rest && e < 2; e++) {
			const struct pc_rg_box *wb = &r->v[i].witness;
			struct point pt;

			memset(&pt, 0, sizeof(pt));
			pt.dir = r->v[i].dir;
			pt.fam = wb->fam;
			for (int k = 0; k < __PC_RG_DIM_MAX; k++) {
				const struct pc_u128 *x = e ? &wb->d[k].hi : &wb->d[k].lo;

				pt.v[k] = x->lo;
				if (k == PC_RG_SADDR || k == PC_RG_DADDR)
					pt.addr_hi[k - PC_RG_SADDR] = x->hi;
			}
			if (!check_point(o, n, claim, &pt))
				bad++;
			/* and it is in its region: no bounded region is empty */
			if (!witness_inside(o, n, r, &r->v[i], &pt))
				bad++;
		}
	for (unsigned i = 0; i < n_random; i++) {
		struct point pt;

		rand_point(&pt, r->ifaces.n);
		if (!check_point(o, n, claim, &pt))
			bad++;
	}
	rng_state = saved;
	return bad;
}

/* A region's edge moved by one, or a region dropped (@r not empty). */
static void mutate(struct pc_rg_result *r)
{
	size_t i;

	i = pick((unsigned)r->n);
	/* a rest region's box only bounds it: its edges need not be in it */
	if (pick(3) == 0 || r->v[i].rest) {
		r->v[i] = r->v[--r->n];
		return;
	}
	for (int tries = 0; tries < 20; tries++) {
		int k = (int)pick(__PC_RG_DIM_MAX);
		struct pc_rg_iv *iv = &r->v[i].box.d[k];
		unsigned p = (unsigned)r->v[i].box.d[PC_RG_PROTO].lo.lo;

		/* the port of a protocol without ports is no edge */
		if (k == PC_RG_DPORT && !pc_proto_has_ports(p) && p != PC_PROTO_ICMP &&
		    p != PC_PROTO_ICMPV6)
			continue;
		if (iv->lo.hi || iv->hi.hi || iv->lo.lo == iv->hi.lo)
			continue;
		if (pick(2))
			iv->lo.lo++;
		else
			iv->hi.lo--;
		return;
	}
	r->v[i] = r->v[--r->n];
}

static size_t pairs, changed_pairs, regions_seen, rests_seen, conds_seen, refused, mutants,
	mutants_caught, nat_seen;

static void run_pair(void)
{
	static const char *const dflts[] = { "deny", "reject", "allow" };
	struct pol a = { .dflt = dflts[pick(3)] }, b;
	char *ta, *tb, err[256];
	struct pc_ir *o, *n;
	struct pc_rg_result r;
	uint64_t seed;

	for (int i = 0; i < 3; i++)
		a.group[i] = new_member();
	a.n = 2 + pick(14);
	for (size_t i = 0; i < a.n; i++)
		a.rules[i] = new_rule();
	a.n_nat = with_nat ? 1 + pick(3) : 0;
	for (size_t i = 0; i < a.n_nat; i++)
		a.nat[i] = new_nat();
	pol_copy(&b, &a);
	pol_edit(&b);
	ta = pol_text(&a);
	tb = pol_text(&b);
	o = load("old.policy", ta);
	n = load("new.policy", tb);
	assert_non_null(o);
	assert_non_null(n);
	if (pc_regions_compare(o, n, &r, err, sizeof(err)) < 0) {
		/* too many limited rules for the condition dimensions: said by name */
		assert_non_null(strstr(err, "compare models at most"));
		refused++;
		goto out;
	}
	seed = rnd() | 1;
	if (check_all(o, n, &r, &r, 400, seed)) {
		fprintf(stderr, "OLD:\n%sNEW:\n%s", ta, tb);
		fail_msg("packets whose verdict change and printed regions disagree");
	}
	pairs++;
	changed_pairs += r.n != 0;
	regions_seen += r.n;
	for (size_t i = 0; i < r.n; i++) {
		rests_seen += r.v[i].rest != 0;
		nat_seen += r.v[i].what != PC_RG_VERDICT || r.v[i].old.nat >= 0 ||
			    r.v[i].new.nat >= 0;
		for (int k = PC_RG_COND0; k < __PC_RG_DIM_MAX; k++)
			if (r.v[i].box.d[k].lo.lo == r.v[i].box.d[k].hi.lo) {
				conds_seen++;
				break;
			}
	}
	/* the test must see a mutated comparison */
	if (r.n) {
		struct pc_rg_result m = r;

		m.v = xmalloc(r.n * sizeof(r.v[0]));
		memcpy(m.v, r.v, r.n * sizeof(r.v[0]));
		mutate(&m);
		mutants++;
		if (check_all(o, n, &r, &m, 400, seed))
			mutants_caught++;
		free(m.v);
	}
	pc_rg_result_free(&r);
out:
	pc_ir_destroy(o);
	pc_ir_destroy(n);
	free(ta);
	free(tb);
	pol_free(&a);
	pol_free(&b);
}

static void test_random_pairs(void **state)
{
	(void)state;
	with_nat = false;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 600; i++) {
		/* every other pair with the rest of a default as one region */
		pc_rg_rest_rules = i % 2 ? 16 : 0;
		run_pair();
	}
	pc_rg_rest_rules = 16;
	fprintf(stderr, "regions: %zu pairs (%zu changed, %zu refused), %zu regions (%zu bounded, "
		"%zu on set membership or a rate), %zu packets checked, "
		"%zu of %zu mutated comparisons caught\n", pairs, changed_pairs, refused, regions_seen,
		rests_seen, conds_seen, checked, mutants_caught, mutants);
	assert_true(conds_seen > pairs / 20);
	assert_true(refused < pairs / 10);
	assert_true(rests_seen > pairs / 10);
	assert_true(changed_pairs > pairs / 3);
	assert_int_equal(mutants_caught, mutants);
}

/*
 * Issue 16: the same with NAT rules in both, edited too: the verdict of
 * the translated packet, and the translations themselves (dnat, and
 * masquerade or snat of the packet as translated).
 */
static void test_random_nat_pairs(void **state)
{
	size_t nat_regions = 0;

	(void)state;
	with_nat = true;
	rng_state = 0x2545f4914f6cdd1dull;
	pairs = changed_pairs = regions_seen = rests_seen = conds_seen = refused = 0;
	mutants = mutants_caught = 0;
	nat_seen = 0;
	for (int i = 0; i < 600; i++) {
		pc_rg_rest_rules = i % 2 ? 16 : 0;
		run_pair();
	}
	pc_rg_rest_rules = 16;
	with_nat = false;
	nat_regions = nat_seen;
	fprintf(stderr, "regions with NAT: %zu pairs (%zu changed, %zu refused), %zu regions "
		"(%zu bounded, %zu translations or after a dnat), %zu packets checked, "
		"%zu of %zu mutated comparisons caught\n", pairs, changed_pairs, refused,
		regions_seen, rests_seen, nat_regions, checked, mutants_caught, mutants);
	assert_true(refused < pairs / 10);
	assert_true(nat_regions > pairs / 4);
	assert_true(changed_pairs > pairs / 3);
	assert_int_equal(mutants_caught, mutants);
}

/*
 * Issue 16: `-> X` keeps the port, so at port P it translates as `-> X:P`
 * does: the region of a changed target leaves P out. And the port
 * forward of a web server: the filter judges the translated packet.
 */
static void test_nat_ports(void **state)
{
	static const char old[] =
		"table t\ndefault forward deny\n"
		"allow forward to 192.0.2.5 port 1005/tcp\n"
		"dnat on eth0 port 1000-1010/tcp -> 192.0.2.5\n";
	static const char new[] =
		"table t\ndefault forward deny\n"
		"allow forward to 192.0.2.5 port 1005/tcp\n"
		"dnat on eth0 port 1000-1010/tcp -> 192.0.2.5:1005\n";
	struct pc_ir *o, *n;
	struct pc_rg_result r;
	char err[256];
	size_t dnat = 0, opened = 0;

	(void)state;
	o = load("old.policy", old);
	n = load("new.policy", new);
	assert_non_null(o);
	assert_non_null(n);
	assert_int_equal(pc_regions_compare(o, n, &r, err, sizeof(err)), 0);
	for (size_t i = 0; i < r.n; i++) {
		const struct pc_rg_diff *d = &r.v[i];

		assert_int_equal(d->box.d[PC_RG_PROTO].lo.lo, PC_PROTO_TCP);
		assert_false(d->box.d[PC_RG_DPORT].lo.lo <= 1005 && d->box.d[PC_RG_DPORT].hi.lo >= 1005);
		if (d->what == PC_RG_DNAT) {
			dnat++;
			assert_int_equal(d->old.nat, 0);
			assert_int_equal(d->new.nat, 0);
		} else {
			/* NEW sends 1000-1004 and 1006-1010 to 1005, which forward allows */
			assert_int_equal(d->what, PC_RG_VERDICT);
			assert_int_equal(d->new.verdict, PC_VERDICT_ALLOW);
			assert_int_equal(d->old.verdict, PC_VERDICT_DENY);
			assert_int_equal(d->new.nat, 0);
			opened++;
		}
	}
	/* ports 1000-1004 and 1006-1010, in and forward */
	assert_int_equal(dnat, 4);
	assert_int_equal(opened, 4);
	pc_rg_result_free(&r);
	pc_ir_destroy(o);
	pc_ir_destroy(n);
}

/* The same meaning written otherwise: no region. */
static void test_refactoring(void **state)
{
	static const char old[] =
		"table t\n"
		"hosts admins = { 192.0.2.0/25, 192.0.2.128/25 }\n"
		"services web = { port 80/tcp, port 443 }\n"
		"default in deny\n"
		"allow in service $web\n"
		"allow in service ssh/tcp from $admins\n"
		"allow in port 9100/tcp from 198.51.100.7\n";
	static const char new[] =
		"table t\n"
		"default in deny\n"
		"allow in port 9100/tcp from 198.51.100.7\n"
		"allow in port 22/tcp from 192.0.2.0/24\n"
		"allow in port 80/tcp\n"
		"allow in port 443\n";
	struct pc_ir *o, *n;
	struct pc_rg_result r;
	char err[256];

	(void)state;
	o = load("old.policy", old);
	n = load("new.policy", new);
	assert_non_null(o);
	assert_non_null(n);
	assert_int_equal(pc_regions_compare(o, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	pc_rg_result_free(&r);
	pc_ir_destroy(o);
	pc_ir_destroy(n);
}

/*
 * A changed default on many rules that cut the space into thousands of
 * pieces is one region (the packets no rule matches), found without
 * walking those pieces.
 */
static void test_default_change(void **state)
{
	struct pc_buf a, b;
	struct pc_ir *o, *n;
	struct pc_rg_result r;
	char err[256];

	(void)state;
	pc_buf_init(&a);
	pc_buf_init(&b);
	pc_buf_puts(&a, "table t\ndefault in deny\n");
	pc_buf_puts(&b, "table t\ndefault in allow\n");
	for (int i = 0; i < 200; i++) {
		char line[128];

		snprintf(line, sizeof(line), "%s in port %d/%s from 192.0.2.%d to 198.51.100.%d\n",
			 i % 3 ? "allow" : "reject", 1000 + 7 * i, i % 2 ? "tcp" : "udp",
			 i % 251, (i * 37) % 251);
		pc_buf_puts(&a, line);
		pc_buf_puts(&b, line);
	}
	o = load("old.policy", a.data);
	n = load("new.policy", b.data);
	assert_non_null(o);
	assert_non_null(n);
	assert_int_equal(pc_regions_compare(o, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.v[0].rest);
	assert_int_equal(r.v[0].box.fam, PC_FAM_ALL);
	assert_int_equal(r.v[0].old.verdict, PC_VERDICT_DENY);
	assert_int_equal(r.v[0].new.verdict, PC_VERDICT_ALLOW);
	/* nothing walked but the rest */
	assert_true(r.leaves <= 2);
	pc_rg_result_free(&r);
	/* a rule that matches every packet leaves no rest */
	pc_buf_puts(&a, "allow in\n");
	pc_buf_puts(&b, "allow in\n");
	pc_ir_destroy(o);
	pc_ir_destroy(n);
	o = load("old.policy", a.data);
	n = load("new.policy", b.data);
	assert_int_equal(pc_regions_compare(o, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	pc_rg_result_free(&r);
	pc_ir_destroy(o);
	pc_ir_destroy(n);
	free(a.data);
	free(b.data);
}

/*
 * A broad rule inserted before many: per OLD rule it overrides, its
 * packets as one region (bounded by a box where earlier rules take some),
 * and the packets OLD's default decided as one more, not the thousands of
 * boxes that rules with holes cut the space into.
 */
static void test_broad_insert(void **state)
{
	struct pc_buf a, b;
	struct pc_ir *o, *n;
	struct pc_rg_result r;
	char err[256];
	size_t overridden = 0, rest = 0;

	(void)state;
	pc_buf_init(&a);
	pc_buf_init(&b);
	pc_buf_puts(&a, "table t\ndefault in deny\n");
	pc_buf_puts(&b, "table t\ndefault in deny\nallow in proto tcp\n");
	for (int i = 0; i < 200; i++) {
		char line[128];

		snprintf(line, sizeof(line), "%s in port { %d, %d }/%s from 192.0.2.%d/%d\n",
			 i % 3 ? "allow" : "reject", 1000 + 7 * i, 3000 + 11 * i,
			 i % 2 ? "tcp" : "udp", (i * 4) % 256, i % 5 ? 30 : 31);
		overridden += i % 3 == 0 && i % 2;
		pc_buf_puts(&a, line);
		pc_buf_puts(&b, line);
	}
	o = load("old.policy", a.data);
	n = load("new.policy", b.data);
	assert_non_null(o);
	assert_non_null(n);
	assert_int_equal(pc_regions_compare(o, n, &r, err, sizeof(err)), 0);
	for (size_t i = 0; i < r.n; i++) {
		assert_int_equal(r.v[i].new.rule, n->chains[PC_DIR_IN].n - 201);
		rest += r.v[i].old.rule < 0;
	}
	/* the default's packets: one region per family at most */
	assert_true(rest >= 1 && rest <= 2);
	/* each reject rule's two ports, in each family */
	assert_true(r.n <= rest + 4 * overridden);
	pc_rg_result_free(&r);
	pc_ir_destroy(o);
	pc_ir_destroy(n);
	free(a.data);
	free(b.data);
}

/*
 * `expect` against the evaluator: random policies, each with one random
 * expectation. When the loader accepts it, no packet of the expectation's
 * space (new, not on lo unless it names an interface) among the edges and
 * random packets gets another verdict; when it refuses it, the packet the
 * error shows is in that space and gets another verdict.
 */
static size_t expects_held, expects_broken, witnesses_checked, conditional_witnesses,
	with_nat_witnesses;

/* The verdict an expectation asks for, as the loader judges it. */
static bool verdict_keeps(enum pc_verdict want, enum pc_verdict got)
{
	return want == PC_VERDICT_DENY ? got != PC_VERDICT_ALLOW : want == got;
}

/* The verdict of @p as explain takes it: after its dnat, if any (issue 16). */
static void judged_eval(const struct pc_ir *ir, const struct pc_packet *p, enum pc_verdict *v)
{
	struct pc_packet t;

	if (pc_ir_dnat(ir, p, &t) >= 0) {
		if (with_nat_witnesses < SIZE_MAX)
			with_nat_witnesses++;
		pc_ir_eval(ir, &t, v);
	} else {
		pc_ir_eval(ir, p, v);
	}
}

static void run_expect(void)
{
	struct pol a = { .dflt = pick(2) ? "deny" : "reject" };
	struct pc_buf eb;
	char *text, *with, *rule_text;
	struct pc_ir *ir, *checked_ir, *as_rule;
	struct pc_diag *d;
	const struct pc_rule *er;
	enum pc_direction edir;

	for (int i = 0; i < 3; i++)
		a.group[i] = new_member();
	a.n = 1 + pick(10);
	for (size_t i = 0; i < a.n; i++)
		a.rules[i] = new_rule();
	/* issue 16: every other policy with NAT rules */
	a.n_nat = pick(2) ? 1 + pick(3) : 0;
	for (size_t i = 0; i < a.n_nat; i++)
		a.nat[i] = new_nat();
	text = pol_text(&a);
	/* the expectation, and the same words as the only rule of a policy */
	pc_buf_init(&eb);
	no_limits = true;
	rand_rule(&eb);
	no_limits = false;
	rule_text = eb.data;
	pc_buf_init(&eb);
	pc_buf_printf(&eb, "%sexpect %s\n", text, rule_text);
	with = eb.data;
	ir = load("p.policy", text);
	assert_non_null(ir);
	pc_buf_init(&eb);
	pc_buf_printf(&eb, "table t\ntransports tcp, udp, sctp\nhosts g = { %s, %s, %s }\n"
		      "hosts dyn = dynamic\n%s\n",
		      a.group[0], a.group[1], a.group[2], rule_text);
	as_rule = load("r.policy", eb.data);
	free(eb.data);
	assert_non_null(as_rule);
	/* rand_rule() writes "VERDICT DIRECTION ..." */
	edir = strncmp(strchr(rule_text, ' ') + 1, "out", 3) == 0 ? PC_DIR_OUT :
	       strncmp(strchr(rule_text, ' ') + 1, "forward", 7) == 0 ? PC_DIR_FORWARD : PC_DIR_IN;
	er = &as_rule->chains[edir].rules[as_rule->chains[edir].n - 1];
	assert_int_equal(er->origin, PC_ORIGIN_POLICY);

	d = pc_diag_create();
	checked_ir = pc_policy_load_buffer("p.policy", with, strlen(with), reg, PC_POLICY_NO_LINT, d);
	if (checked_ir) {
		/* held: no sampled packet of its space breaks it */
		expects_held++;
		for (unsigned i = 0; i < 3000; i++) {
			struct point pt;
			struct pc_packet p;
			char ifbuf[32];
			enum pc_verdict v;
			struct pc_rg_ifaces none = { 0 };
			static const char *const names[] = { "eth0", "eth1", "lo", "wlan0" };

			rand_point(&pt, 0);
			pt.v[PC_RG_STATE] = 0;
			pt.dir = edir;
			to_packet(&pt, &none, &p, ifbuf, sizeof(ifbuf));
			p.iface = names[pick(4)];
			if (!pc_rule_match(er, &p) || (strcmp(p.iface, "lo") == 0 && !er->iface))
				continue;
			judged_eval(ir, &p, &v);
			witnesses_checked++;
			if (!verdict_keeps(er->verdict, v)) {
				char buf[160];

				pc_packet_format(&p, buf, sizeof(buf));
				fprintf(stderr, "%s\n'%s' gets %s\n", with, buf, pc_verdict_name(v));
				fail_msg("an expectation the loader proved is broken by a packet");
			}
		}
		pc_ir_destroy(checked_ir);
	} else {
		/* broken: its witness is in its space and gets another verdict */
		char *msg = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&msg, &len);
		const char *q1, *q2;
		char pkt[160], ifb[16];
		struct pc_packet p;
		enum pc_verdict v;

		expects_broken++;
		pc_diag_print(d, f, false);
		fclose(f);
		q1 = strstr(msg, "expectation broken: '");
		if (!q1) {
			fprintf(stderr, "%s%s", with, msg);
			fail_msg("a refused expectation without a witness");
		}
		q1 += strlen("expectation broken: '");
		q2 = strchr(q1, '\'');
		assert_non_null(q2);
		snprintf(pkt, sizeof(pkt), "%.*s", (int)(q2 - q1), q1);
		assert_int_equal(pc_packet_parse(pkt, &p, ifb, NULL), 0);
		/*
		 * A witness that depends on a dynamic set's members or a rate,
		 * which the evaluator cannot be told, says so: " (source in @dyn)"
		 */
		if (strncmp(q2, "' (", 3) == 0) {
			assert_non_null(strstr(q2, "@dyn"));
			conditional_witnesses++;
			free(msg);
			pc_diag_destroy(d);
			goto done;
		}
		assert_true(pc_rule_match(er, &p));
		assert_int_equal(p.dir, edir);
		assert_int_equal(p.ct_state, PC_CT_NEW);
		/* loopback traffic is not what an expectation without `on` speaks of */
		if (!er->iface)
			assert_string_not_equal(p.iface, "lo");
		judged_eval(ir, &p, &v);
		if (verdict_keeps(er->verdict, v)) {
			fprintf(stderr, "%s%s", with, msg);
			fail_msg("the witness of a broken expectation keeps it");
		}
		witnesses_checked++;
		free(msg);
	}
	pc_diag_destroy(d);
done:
	pc_ir_destroy(ir);
	pc_ir_destroy(as_rule);
	free(text);
	free(with);
	free(rule_text);
	pol_free(&a);
}

static void test_random_expects(void **state)
{
	(void)state;
	rng_state = 0x243f6a8885a308d3ull;
	for (int i = 0; i < 800; i++)
		run_expect();
	fprintf(stderr, "expect: %zu held, %zu broken (%zu on set members), %zu packets checked "
		"(%zu of them translated by a dnat)\n",
		expects_held, expects_broken, conditional_witnesses, witnesses_checked,
		with_nat_witnesses);
	assert_true(with_nat_witnesses >= 10);
	assert_true(expects_held > 20);
	assert_true(expects_broken > 20);
}

/* A rule feature compare does not model is refused, naming it: never ignored. */
static void test_unmodelled(void **state)
{
	struct pc_buf b;
	struct pc_ir *ir, *view;
	struct pc_rg_result r;
	char err[256];

	(void)state;
	pc_buf_init(&b);
	pc_buf_puts(&b, "table t\n");
	for (int i = 0; i < 12; i++)
		pc_buf_printf(&b, "allow in port %d/tcp from 192.0.2.%d\n", 1000 + i, i);
	ir = load("m.policy", b.data);
	free(b.data);
	assert_non_null(ir);
	view = pc_ir_optimize_view(ir, NULL);   /* verdict maps */
	assert_non_null(view);
	assert_int_equal(pc_regions_compare(ir, view, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NEW m.policy:"));
	assert_non_null(strstr(err, "compare does not model verdict maps"));
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_pairs),
		cmocka_unit_test(test_random_nat_pairs),
		cmocka_unit_test(test_nat_ports),
		cmocka_unit_test(test_random_expects),
		cmocka_unit_test(test_refactoring),
		cmocka_unit_test(test_default_change),
		cmocka_unit_test(test_broad_insert),
		cmocka_unit_test(test_unmodelled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
