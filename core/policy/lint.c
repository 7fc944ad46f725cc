/* SPDX-License-Identifier: MIT */
/*
 * Shadowing: a policy rule that can never match because the rules before it
 * (one of them, or their union) already decide every packet it matches.
 *
 * Rules without addresses, interface, rate limit or state ("wildcard"
 * rules) are folded into per-family bitmaps of covered ports and types, so
 * the common case is linear. Earlier rules with addresses or an interface
 * are compared pairwise, within a budget that keeps huge policies fast.
 */
#include <stdint.h>
#include <string.h>

#include "ir/eval.h"
#include "policy/resolve.h"
#include "common/util.h"

#define PAIR_BUDGET 4000000ul

enum { T_TCP, T_UDP, T_DCCP, T_SCTP, N_T };

struct famcov {
	bool all;                   /* every packet of the family */
	bool proto_all[256];        /* every packet of a protocol */
	uint64_t ports[N_T][65536 / 64];
	uint64_t types[256 / 64];   /* ICMP types of the family's ICMP */
};

/*
 * The smallest prefix holding every source (destination) prefix of a rule,
 * per family: a rule can only cover another if its bound holds the other's,
 * an O(1) test that rules out most pairs before the prefix-by-prefix one.
 */
struct bounds {
	struct pc_addr s[2];
	struct pc_addr d[2];
};

/* Pairs by the source bound of one family: key -> pair numbers. */
#define BOUND_HASH_MAX (1u << 17)

struct bound_entry {
	struct pc_addr key;
	size_t *v;
	size_t n, cap;
	unsigned h;                 /* its bucket */
	struct bound_entry *next;
};

struct cover {
	struct famcov fam[2];       /* [0] IPv4, [1] IPv6 */
	const struct pc_rule **pairs;
	struct bounds *bounds;      /* of each pair */
	uint64_t *sigs;             /* of each pair: l4_sig() */
	size_t n_pairs, cap_pairs, cap_bounds, cap_sigs;
	unsigned long budget;
	/* the prefix lengths keys exist at, per key kind (key_kind()): the
	 * ancestor walks in covered() look up only those levels */
	uint64_t plens[4][3];
	struct bound_entry **used;  /* every entry, for bound_clear() */
	size_t n_used, cap_used;
	struct bound_entry **hash;  /* mask + 1 buckets: twice the longest chain */
	unsigned mask;
};

/* 0-3: IPv4 / IPv6 source bound, IPv4 / IPv6 destination bound (| 0x80) */
static unsigned key_kind(const struct pc_addr *key)
{
	return ((key->family & PC_FAM_IPV6) ? 1u : 0u) | (key->family & 0x80 ? 2u : 0u);
}

static bool plen_present(const struct cover *c, const struct pc_addr *key, unsigned plen)
{
	return c->plens[key_kind(key)][plen / 64] >> (plen % 64) & 1;
}

static unsigned bound_hash(const struct cover *c, const struct pc_addr *a)
{
	uint32_t h = 2166136261u ^ a->family ^ (uint32_t)a->plen << 8;

	for (unsigned i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h & c->mask;
}

static bool same_prefix(const struct pc_addr *a, const struct pc_addr *b)
{
	return a->family == b->family && a->plen == b->plen && memcmp(a->a, b->a, 16) == 0;
}

static struct bound_entry *bound_find(struct cover *c, const struct pc_addr *key, bool add)
{
	unsigned h = bound_hash(c, key);
	struct bound_entry *e;

	for (e = c->hash[h]; e; e = e->next)
		if (same_prefix(&e->key, key))
			return e;
	if (!add)
		return NULL;
	e = xzalloc(sizeof(*e));
	e->key = *key;
	e->h = h;
	c->used = xgrow(c->used, &c->cap_used, c->n_used + 1, sizeof(*c->used));
	c->used[c->n_used++] = e;
	c->plens[key_kind(key)][key->plen / 64] |= 1ull << (key->plen % 64);
	e->next = c->hash[h];
	c->hash[h] = e;
	return e;
}

/* Empties the index, visiting only the buckets in use. */
static void bound_clear(struct cover *c)
{
	for (size_t i = 0; i < c->n_used; i++) {
		c->hash[c->used[i]->h] = NULL;
		free(c->used[i]->v);
		free(c->used[i]);
	}
	c->n_used = 0;
	memset(c->plens, 0, sizeof(c->plens));
}

static int tidx(unsigned proto)
{
	switch (proto) {
	case PC_PROTO_TCP: return T_TCP;
	case PC_PROTO_UDP: return T_UDP;
	case PC_PROTO_DCCP: return T_DCCP;
	case PC_PROTO_SCTP: return T_SCTP;
	default: return -1;
	}
}

static bool bit(const uint64_t *b, unsigned i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static void set_bits(uint64_t *b, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi;) {
		if (i % 64 == 0 && hi - i >= 63) {
			b[i / 64] = ~(uint64_t)0;
			i += 64;
		} else {
			b[i / 64] |= (uint64_t)1 << (i % 64);
			i++;
		}
	}
}

static bool is_wildcard(const struct pc_rule *r)
{
	return !r->iface && r->saddr.n == 0 && r->daddr.n == 0 &&
	       !pc_addr_set_is_dynamic(&r->saddr) && !pc_addr_set_is_dynamic(&r->daddr) &&
	       !r->saddr_not && !r->daddr_not;
}

static bool can_cover(const struct pc_rule *r)
{
	/* what a dynamic set holds is known only at run time */
	return r->limit.rate == 0 && r->ct_state == 0 &&
	       !pc_addr_set_is_dynamic(&r->saddr) && !pc_addr_set_is_dynamic(&r->daddr) &&
	       !r->saddr_not && !r->daddr_not && !r->iface_not;
}

static unsigned fam_bit(int f)
{
	return f ? PC_FAM_IPV6 : PC_FAM_IPV4;
}

static void add_wildcard(struct cover *c, const struct pc_rule *r)
{
	for (int f = 0; f < 2; f++) {
		struct famcov *fc = &c->fam[f];

		if (!(r->families & fam_bit(f)))
			continue;
		if (r->n_l4 == 0) {
			fc->all = true;
			continue;
		}
		for (size_t i = 0; i < r->n_l4; i++) {
			const struct pc_l4 *l = &r->l4[i];
			int t = tidx(l->proto);
			bool icmp = l->proto == (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP);

			if ((t >= 0 && l->dports.n == 0) || (icmp && l->n_types == 0) ||
			    (t < 0 && !icmp)) {
				fc->proto_all[l->proto] = true;
				continue;
			}
			if (t >= 0)
				for (size_t j = 0; j < l->dports.n; j++)
					set_bits(fc->ports[t], l->dports.v[j].lo, l->dports.v[j].hi);
			else
				for (size_t j = 0; j < l->n_types; j++)
					set_bits(fc->types, l->types[j], l->types[j]);
		}
	}
}

/* Does every prefix of @inner (of family @fam) lie in some prefix of @outer? */
static bool addrs_cover(const struct pc_addr_set *outer, const struct pc_addr_set *inner,
			unsigned fam)
{
	bool any_inner = true;

	if (outer->n == 0)
		return true;
	for (size_t i = 0; i < inner->n; i++) {
		bool found = false;

		if (inner->v[i].family != fam)
			continue;
		any_inner = false;
		for (size_t j = 0; j < outer->n && !found; j++)
			found = pc_prefix_contains(&outer->v[j], &inner->v[i]);
		if (!found)
			return false;
	}
	if (any_inner) {
		/* inner is "any" for this family: only an outer without this family's
		 * prefixes... which cannot be, as outer->n > 0 restricts. */
		for (size_t j = 0; j < outer->n; j++)
			if (outer->v[j].family == fam && outer->v[j].plen == 0)
				return true;
		return false;
	}
	return true;
}

static void bound_of(const struct pc_addr_set *set, unsigned fam, struct pc_addr *out)
{
	bool first = true;

	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)fam;
	for (size_t i = 0; i < set->n; i++) {
		const struct pc_addr *a = &set->v[i];
		unsigned common = 0;

		if (a->family != fam)
			continue;
		if (first) {
			*out = *a;
			first = false;
			continue;
		}
		while (common < out->plen && common < a->plen &&
		       ((out->a[common / 8] ^ a->a[common / 8]) >> (7 - common % 8) & 1) == 0)
			common++;
		out->plen = (uint8_t)common;
		pc_prefix_mask(out);
	}
}

static void bounds_of(const struct pc_rule *r, struct bounds *b)
{
	for (int f = 0; f < 2; f++) {
		bound_of(&r->saddr, fam_bit(f), &b->s[f]);
		bound_of(&r->daddr, fam_bit(f), &b->d[f]);
	}
}

/* Does @e match every packet of family @f that @r matches, ignoring l4? */
static bool covers_outside_l4(const struct pc_rule *e, const struct pc_rule *r, int f)
{
	unsigned fam = fam_bit(f);

	if (!(e->families & fam))
		return false;
	/* a negated match of @r covers what lies outside its list: only an
	 * earlier rule without that match holds all of it */
	if ((r->saddr_not && e->saddr.n) || (r->daddr_not && e->daddr.n) ||
	    (r->iface_not && e->iface))
		return false;
	if (e->iface && (!r->iface || strcmp(e->iface, r->iface) != 0))
		return false;
	return addrs_cover(&e->saddr, &r->saddr, fam) && addrs_cover(&e->daddr, &r->daddr, fam);
}

static const struct pc_l4 *find_l4(const struct pc_rule *e, unsigned proto)
{
	for (size_t i = 0; i < e->n_l4; i++)
		if (e->l4[i].proto == proto)
			return &e->l4[i];
	return NULL;
}

/* Is port @p (or ICMP type) of @proto covered by pairwise rule @e? */
static bool l4_has(const struct pc_rule *e, unsigned proto, int value)
{
	const struct pc_l4 *l;

	if (e->n_l4 == 0)
		return true;
	l = find_l4(e, proto);
	if (!l)
		return false;
	if (value < 0)
		return pc_proto_has_ports(proto) ? l->dports.n == 0 :
		       (proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6) ? l->n_types == 0 : true;
	if (pc_proto_has_ports(proto))
		return pc_port_set_contains(&l->dports, (uint16_t)value);
	if (proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6) {
		if (l->n_types == 0)
			return true;
		for (size_t i = 0; i < l->n_types; i++)
			if (l->types[i] == value)
				return true;
		return false;
	}
	return true;
}

/*
 * Is value @v (port or type; -1: the whole protocol) of @proto in family @f
 * covered by the wildcard bitmaps or one of @ps?
 */
static bool value_covered(const struct famcov *fc, const struct pc_rule **ps, size_t np,
			  unsigned proto, int f, int v)
{
	int t = tidx(proto);

	if (fc->all || fc->proto_all[proto])
		return true;
	if (v >= 0) {
		if (t >= 0 && bit(fc->ports[t], (unsigned)v))
			return true;
		if (t < 0 && proto == (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP) &&
		    bit(fc->types, (unsigned)v))
			return true;
	}
	for (size_t i = 0; i < np; i++)
		if (l4_has(ps[i], proto, v))
			return true;
	return false;
}

/* The last port of @e's interval of @proto holding @p; -1 when none does. */
static long pair_end(const struct pc_rule *e, unsigned proto, unsigned p)
{
	const struct pc_l4 *l;
	size_t lo = 0, hi;

	if (e->n_l4 == 0)
		return 65535;
	l = find_l4(e, proto);
	if (!l)
		return -1;
	if (l->dports.n == 0)
		return 65535;
	hi = l->dports.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->dports.v[mid].hi < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->dports.n && l->dports.v[lo].lo <= p)
		return l->dports.v[lo].hi;
	return -1;
}

/* The first port in [@p, @hi] whose bit is clear, -1 when all are set. */
static long first_clear(const uint64_t *b, unsigned p, unsigned hi)
{
	while (p <= hi) {
		uint64_t w = ~b[p / 64] >> (p % 64);

		if (w)
			return p + (unsigned)__builtin_ctzll(w) <= hi ?
			       (long)(p + (unsigned)__builtin_ctzll(w)) : -1;
		p = (p / 64 + 1) * 64;
	}
	return -1;
}

/*
 * Are all ports [@lo, @hi] of @proto covered by the bitmap or the pairs?
 * Walks intervals, not ports: each step skips a whole covered stretch.
 */
static bool ports_covered(const struct famcov *fc, const struct pc_rule **ps, size_t np,
			  unsigned proto, unsigned lo, unsigned hi)
{
	const uint64_t *bits = fc->ports[tidx(proto)];
	long p = lo;

	while (p >= 0 && (unsigned)p <= hi) {
		long best = -1;

		p = first_clear(bits, (unsigned)p, hi);
		if (p < 0)
			return true;
		for (size_t i = 0; i < np; i++) {
			long end = pair_end(ps[i], proto, (unsigned)p);

			if (end > best)
				best = end;
		}
		if (best < 0)
			return false;
		if (best >= (long)hi)
			return true;
		p = best + 1;
	}
	return true;
}

/*
 * The ports a rule matches, folded into 64 bits (port % 64); every bit when
 * it matches more than 63 consecutive ports, a whole protocol or no port at
 * all (ICMP types, any protocol). Two rules whose signatures share no bit
 * match no port in common, so one cannot help to cover the other: a test of
 * one AND that rules out most pairs before the address checks.
 */
static uint64_t l4_sig(const struct pc_rule *r)
{
	uint64_t sig = 0;

	if (r->n_l4 == 0)
		return UINT64_MAX;
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l = &r->l4[i];

		if (!pc_proto_has_ports(l->proto) || l->dports.n == 0)
			return UINT64_MAX;
		for (size_t j = 0; j < l->dports.n; j++) {
			unsigned lo = l->dports.v[j].lo, hi = l->dports.v[j].hi;

			if (hi - lo >= 63)
				return UINT64_MAX;
			for (unsigned p = lo; p <= hi; p++)
				sig |= 1ull << (p % 64);
		}
	}
	return sig;
}

static bool covered(struct cover *c, const struct pc_rule *r)
{
	const struct pc_rule **ps = NULL;
	size_t cap = 0;
	bool ok = true;
	struct bounds rb;
	uint64_t rsig = l4_sig(r);

	bounds_of(r, &rb);

	for (int f = 0; f < 2 && ok; f++) {
		const struct famcov *fc = &c->fam[f];
		size_t np = 0;

		if (!(r->families & fam_bit(f)))
			continue;
		if (fc->all)
			continue;
		/*
		 * Only pairs whose bounds are ancestors of ours can cover. Each
		 * pair is indexed by its more specific bound: its source bound,
		 * or its destination bound (key family | 0x80); both ancestor
		 * chains of ours are looked up.
		 */
		for (int which = 0; which < 2; which++) {
			struct pc_addr anc = which ? rb.d[f] : rb.s[f];
			int lowest = 0;

			if (which)
				anc.family |= 0x80;
			for (int plen = anc.plen; plen >= lowest; plen--) {
				const struct bound_entry *be;

				/* one level up: clear the bit that leaves the prefix */
				anc.plen = (uint8_t)plen;
				if (plen < 128)
					anc.a[plen / 8] &= (uint8_t)~(1u << (7 - plen % 8));
				if (!plen_present(c, &anc, (unsigned)plen))
					continue;
				be = bound_find(c, &anc, false);
				if (!be)
					continue;
				if (c->budget < be->n)
					break;
				c->budget -= be->n;
				for (size_t k = 0; k < be->n; k++) {
					size_t i = be->v[k];

					if (!(c->sigs[i] & rsig))
						continue;
					if (pc_prefix_contains(&c->bounds[i].s[f], &rb.s[f]) &&
					    pc_prefix_contains(&c->bounds[i].d[f], &rb.d[f]) &&
					    covers_outside_l4(c->pairs[i], r, f)) {
						ps = xgrow(ps, &cap, np + 1, sizeof(*ps));
						ps[np++] = c->pairs[i];
					}
				}
			}
		}
		for (size_t i = 0; i < np; i++)
			if (ps[i]->n_l4 == 0)
				goto next_family;
		if (r->n_l4 == 0) {
			ok = false;
			break;
		}
		for (size_t i = 0; i < r->n_l4 && ok; i++) {
			const struct pc_l4 *l = &r->l4[i];
			bool icmp = l->proto == PC_PROTO_ICMP || l->proto == PC_PROTO_ICMPV6;

			if (icmp && l->proto != (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP))
				continue; /* never matches in this family */
			if (value_covered(fc, ps, np, l->proto, f, -1))
				continue;
			if (pc_proto_has_ports(l->proto) && l->dports.n) {
				for (size_t j = 0; j < l->dports.n && ok; j++)
					ok = ports_covered(fc, ps, np, l->proto, l->dports.v[j].lo,
							   l->dports.v[j].hi);
			} else if (icmp && l->n_types) {
				for (size_t j = 0; j < l->n_types && ok; j++)
					ok = value_covered(fc, ps, np, l->proto, f, l->types[j]);
			} else {
				ok = false;
			}
		}
next_family:;
	}
	free(ps);
	return ok;
}

/* An earlier rule that alone covers @r, for the message; NULL if none found. */
static const struct pc_rule *single_cover(const struct pc_chain *c, size_t idx,
					  unsigned long *budget)
{
	const struct pc_rule *r = &c->rules[idx];

	for (size_t i = 0; i < idx && *budget; i++, (*budget)--) {
		const struct pc_rule *e = &c->rules[i];
		bool ok = can_cover(e);

		for (int f = 0; f < 2 && ok; f++) {
			if (!(r->families & fam_bit(f)))
				continue;
			ok = covers_outside_l4(e, r, f);
			if (!ok || e->n_l4 == 0)
				continue;
			if (r->n_l4 == 0) {
				ok = false;
				break;
			}
			for (size_t k = 0; k < r->n_l4 && ok; k++) {
				const struct pc_l4 *l = &r->l4[k];
				const struct pc_l4 *el = find_l4(e, l->proto);

				if (!el) {
					ok = false;
				} else if (pc_proto_has_ports(l->proto)) {
					if (el->dports.n == 0)
						continue;
					if (l->dports.n == 0) {
						ok = false;
						continue;
					}
					for (size_t j = 0; j < l->dports.n && ok; j++)
						ok = l4_has(e, l->proto, l->dports.v[j].lo) &&
						     l4_has(e, l->proto, l->dports.v[j].hi);
					/* both ends in: the interval is in one of e's (merged) intervals? */
					for (size_t j = 0; j < l->dports.n && ok; j++) {
						bool in = false;

						for (size_t m = 0; m < el->dports.n && !in; m++)
							in = el->dports.v[m].lo <= l->dports.v[j].lo &&
							     l->dports.v[j].hi <= el->dports.v[m].hi;
						ok = in;
					}
				} else if (el->n_types) {
					if (l->n_types == 0)
						ok = false;
					for (size_t j = 0; j < l->n_types && ok; j++)
						ok = l4_has(e, l->proto, l->types[j]);
				}
			}
		}
		if (ok)
			return e;
	}
	return NULL;
}

void pc_lint_shadowing(const struct pc_ir *ir, struct pc_diag *diag)
{
	struct cover *c = xzalloc(sizeof(*c));
	size_t longest = 0;

	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		if (ir->chains[d].n > longest)
			longest = ir->chains[d].n;
	c->mask = 1024 - 1;
	while (c->mask + 1 < BOUND_HASH_MAX && c->mask + 1 < 2 * longest)
		c->mask = c->mask * 2 + 1;
	c->hash = xcalloc(c->mask + 1, sizeof(*c->hash));

	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *ch = &ir->chains[d];
		unsigned long single_budget = PAIR_BUDGET / 4;

		memset(c->fam, 0, sizeof(c->fam));
		c->n_pairs = 0;
		bound_clear(c);
		c->budget = PAIR_BUDGET;
		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_rule *r = &ch->rules[i];

			if (r->origin == PC_ORIGIN_POLICY && covered(c, r)) {
				const struct pc_rule *e = single_cover(ch, i, &single_budget);

				if (e && e->origin != PC_ORIGIN_POLICY)
					pc_diag_warning(diag, &r->loc,
							"rule can never match: the built-in %s rule covers it",
							pc_origin_name(e->origin));
				else if (e)
					pc_diag_warning(diag, &r->loc,
							"rule can never match: the rule at %s:%u covers it",
							e->loc.file, e->loc.line);
				else
					pc_diag_warning(diag, &r->loc,
							"rule can never match: earlier rules together cover it");
				continue;
			}
			if (!can_cover(r))
				continue;
			if (is_wildcard(r)) {
				add_wildcard(c, r);
			} else {
				c->pairs = xgrow(c->pairs, &c->cap_pairs, c->n_pairs + 1,
						 sizeof(*c->pairs));
				c->bounds = xgrow(c->bounds, &c->cap_bounds, c->n_pairs + 1,
						  sizeof(*c->bounds));
				bounds_of(r, &c->bounds[c->n_pairs]);
				c->sigs = xgrow(c->sigs, &c->cap_sigs, c->n_pairs + 1,
						sizeof(*c->sigs));
				c->sigs[c->n_pairs] = l4_sig(r);
				for (int f = 0; f < 2; f++) {
					struct bound_entry *be;
					struct pc_addr key;

					if (!(r->families & fam_bit(f)))
						continue;
					key = c->bounds[c->n_pairs].s[f];
					if (c->bounds[c->n_pairs].d[f].plen > key.plen) {
						key = c->bounds[c->n_pairs].d[f];
						key.family |= 0x80;
					}
					be = bound_find(c, &key, true);
					be->v = xgrow(be->v, &be->cap, be->n + 1, sizeof(*be->v));
					be->v[be->n++] = c->n_pairs;
				}
				c->pairs[c->n_pairs++] = r;
			}
		}
	}
	bound_clear(c);
	free(c->used);
	free(c->hash);
	free(c->sigs);
	free(c->pairs);
	free(c->bounds);
	free(c);
}
