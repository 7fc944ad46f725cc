/* SPDX-License-Identifier: MIT */
/*
 * Shadowing: a policy rule that can never match because the rules before it
 * (one of them, or their union) already decide every packet it matches.
 *
 * Rules without addresses, interface, rate limit or state ("wildcard"
 * rules) are folded into per-family bitmaps of covered ports and types, so
 * the common case is linear. Earlier rules with addresses or an interface
 * are grouped into classes of rules with the same families, interface and
 * addresses (a policy's rules use a few groups again and again), and a
 * class keeps the union of its rules' ports and types: a rule is compared
 * with the classes whose addresses may hold its own, not with every earlier
 * rule, so the work grows with the rules and the distinct address sets,
 * not with their product. A budget still bounds the worst case.
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

/* Classes by their (source bound, destination bound) of one family. */
#define BOUND_HASH_MAX (1u << 17)

struct bound_entry {
	struct pc_addr s, d;
	size_t *v;
	size_t n, cap;
	unsigned h;                 /* its bucket */
	struct bound_entry *next;
};

/*
 * The rules (that can cover) with the same interface and the same source
 * and destination prefixes of one family: what they match together in that
 * family is those addresses times the union of their protocols, ports and
 * types, kept here. Per family, as a group of IPv4 and IPv6 prefixes is
 * often written again with other prefixes of one family.
 */
struct klass {
	const struct pc_rule *rep;  /* the first rule: its addresses are the class's */
	int f;                      /* its family: 0 IPv4, 1 IPv6 */
	struct bounds bounds;
	uint64_t sig;               /* l4_sig() of its rules, or-ed */
	unsigned h;                 /* its bucket in cover.khash */
	struct klass *next;
	bool any_l4;                /* a rule of any protocol */
	bool proto_all[256];        /* a rule of every port / type of a protocol */
	struct pc_port_range *ports[N_T];   /* merged, sorted */
	size_t n_ports[N_T], cap_ports[N_T];
	uint64_t types[2][256 / 64];        /* [0] ICMP, [1] ICMPv6 */
	/*
	 * Its first SINGLE_TRIES rules that may alone cover a rule of any
	 * port, or of any ICMP type or other protocol: rules of any protocol,
	 * of a protocol's every port, of a port interval of WIDE ports or
	 * more, of ICMP or another protocol without ports. Ascending. The
	 * other rules are in cover.phash by each of their ports (intervals of
	 * less than 64 ports) or blocks of 64 ports (longer ones).
	 */
	size_t *wide;
	size_t n_wide, cap_wide;
};

/*
 * One port (or block of 64 ports: port BLOCK + n for ports 64 n to
 * 64 n + 63) of one protocol in one class: the first SINGLE_TRIES rules of
 * the class holding that port (touching that block), ascending. A rule
 * that alone covers another holds its first port, so these, those of its
 * block and the class's wide rules are the only ones single_cover() needs
 * to try.
 */
#define SINGLE_TRIES 256
#define WIDE 4096
#define BLOCK 65536u

struct port_entry {
	const struct klass *k;
	uint8_t proto;
	unsigned port;
	size_t *v;
	size_t n, cap;
	unsigned h;
	struct port_entry *next;
};

/* An ascending list of rule indexes, and how far single_cover() has read it. */
struct run {
	const size_t *v;
	size_t n, at;
};

struct cover {
	struct famcov fam[2];       /* [0] IPv4, [1] IPv6 */
	struct klass **cls;
	size_t n_cls, cap_cls;
	struct klass **khash;       /* kmask + 1 buckets */
	unsigned kmask;
	unsigned long budget;
	/* steps of the comparisons, for the test that the work stays linear */
	unsigned long long work;
	struct port_entry **phash;  /* pmask + 1 buckets */
	unsigned pmask;
	struct port_entry **pused;  /* every entry, for class_clear() */
	size_t n_pused, cap_pused;
	struct klass **cand[2];     /* covered(): where a single cover may be, per family */
	size_t n_cand[2], cap_cand[2];
	struct run *runs;           /* single_cover(): the lists of rules to try */
	size_t n_runs, cap_runs;
	/* the prefix lengths bounds exist at, per family, of sources [0] and
	 * destinations [1]: the ancestor walks in covered() look up only those */
	uint64_t plens[2][2][3];
	struct bound_entry **used;  /* every entry, for bound_clear() */
	size_t n_used, cap_used;
	struct bound_entry **hash;  /* mask + 1 buckets: twice the longest chain */
	unsigned mask;
};

static bool plen_present(const struct cover *c, int f, int dst, unsigned plen)
{
	return c->plens[f][dst][plen / 64] >> (plen % 64) & 1;
}

static unsigned bound_hash(const struct cover *c, const struct pc_addr *s,
			   const struct pc_addr *d)
{
	uint32_t h = 2166136261u ^ s->family ^ (uint32_t)s->plen << 8 ^ (uint32_t)d->plen << 16;

	for (unsigned i = 0; i < 16; i++)
		h = (h ^ s->a[i]) * 16777619u;
	for (unsigned i = 0; i < 16; i++)
		h = (h ^ d->a[i]) * 16777619u;
	return h & c->mask;
}

static bool same_prefix(const struct pc_addr *a, const struct pc_addr *b)
{
	return a->family == b->family && a->plen == b->plen && memcmp(a->a, b->a, 16) == 0;
}

static struct bound_entry *bound_find(struct cover *c, const struct pc_addr *s,
				      const struct pc_addr *d, bool add)
{
	unsigned h = bound_hash(c, s, d);
	struct bound_entry *e;
	int f = s->family == PC_FAM_IPV6;

	for (e = c->hash[h]; e; e = e->next)
		if (same_prefix(&e->s, s) && same_prefix(&e->d, d))
			return e;
	if (!add)
		return NULL;
	e = xzalloc(sizeof(*e));
	e->s = *s;
	e->d = *d;
	e->h = h;
	c->used = xgrow(c->used, &c->cap_used, c->n_used + 1, sizeof(*c->used));
	c->used[c->n_used++] = e;
	c->plens[f][0][s->plen / 64] |= 1ull << (s->plen % 64);
	c->plens[f][1][d->plen / 64] |= 1ull << (d->plen % 64);
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
	return !r->iface && !r->n_oifaces && r->saddr.n == 0 && r->daddr.n == 0 &&
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

/* The interface list of a rule: @one alone when @n <= 1, else @v. */
static const char *iface_at(const char *one, size_t n, const char *const *v, size_t i)
{
	return n > 1 ? v[i] : one ? one : n ? v[0] : NULL;
}

/*
 * Does the interface list of an earlier rule (@e...) cover that of @r...?
 * (no list: any interface). By name, as written: "eth*" is not taken to
 * cover "eth0" (a missed warning, never a wrong one).
 */
static bool ifaces_cover(const char *e1, size_t en, const char *const *ev,
			 const char *r1, size_t rn, const char *const *rv)
{
	size_t ecount = en > 1 ? en : (e1 || en) ? 1 : 0;
	size_t rcount = rn > 1 ? rn : (r1 || rn) ? 1 : 0;

	if (!ecount)
		return true;
	if (!rcount)
		return false;
	for (size_t i = 0; i < rcount; i++) {
		const char *name = iface_at(r1, rn, rv, i);
		bool found = false;

		for (size_t j = 0; j < ecount && !found; j++)
			found = strcmp(iface_at(e1, en, ev, j), name) == 0;
		if (!found)
			return false;
	}
	return true;
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
	if (!ifaces_cover(e->iface, e->n_ifaces, e->ifaces,
			  r->iface, r->n_ifaces, r->ifaces) ||
	    !ifaces_cover(NULL, e->n_oifaces, e->oifaces, NULL, r->n_oifaces, r->oifaces))
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

/* Is port @v (or ICMP type; -1: the whole protocol) of @proto in class @k? */
static bool class_has(const struct klass *k, unsigned proto, int v)
{
	int t = tidx(proto);

	if (k->any_l4 || k->proto_all[proto])
		return true;
	if (v < 0)
		return false;
	if (t >= 0)
		return pc_port_set_contains(&(struct pc_port_set){ k->n_ports[t], k->ports[t] },
					    (uint16_t)v);
	if (proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6)
		return bit(k->types[proto == PC_PROTO_ICMPV6], (unsigned)v);
	return false;
}

/*
 * Is value @v (port or type; -1: the whole protocol) of @proto in family @f
 * covered by the wildcard bitmaps or one of the classes @ps?
 */
static bool value_covered(const struct famcov *fc, struct klass **ps, size_t np,
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
		if (class_has(ps[i], proto, v))
			return true;
	return false;
}

/* The last port of @k's interval of @proto holding @p; -1 when none does. */
static long class_end(const struct klass *k, unsigned proto, unsigned p)
{
	int t = tidx(proto);
	const struct pc_port_range *v = k->ports[t];
	size_t lo = 0, hi = k->n_ports[t];

	if (k->any_l4 || k->proto_all[proto])
		return 65535;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid].hi < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < k->n_ports[t] && v[lo].lo <= p)
		return v[lo].hi;
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
static bool ports_covered(struct cover *c, const struct famcov *fc, struct klass **ps,
			  size_t np, unsigned proto, unsigned lo, unsigned hi)
{
	const uint64_t *bits = fc->ports[tidx(proto)];
	long p = lo;

	while (p >= 0 && (unsigned)p <= hi) {
		long best = -1;

		p = first_clear(bits, (unsigned)p, hi);
		if (p < 0)
			return true;
		c->work += np;
		for (size_t i = 0; i < np; i++) {
			long end = class_end(ps[i], proto, (unsigned)p);

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


static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t addr_set_hash(uint32_t h, const struct pc_addr_set *set, unsigned fam)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].family != fam)
			continue;
		h = hash_bytes(h, &set->v[i].plen, 1);
		h = hash_bytes(h, set->v[i].a, 16);
	}
	return h;
}

/* Do @a and @b hold the same prefixes of family @fam? (An empty set: any.) */
static bool same_addr_set(const struct pc_addr_set *a, const struct pc_addr_set *b, unsigned fam)
{
	size_t i = 0, j = 0;

	if ((a->n == 0) != (b->n == 0))
		return false;
	for (;;) {
		while (i < a->n && a->v[i].family != fam)
			i++;
		while (j < b->n && b->v[j].family != fam)
			j++;
		if (i == a->n || j == b->n)
			return i == a->n && j == b->n;
		if (!same_prefix(&a->v[i++], &b->v[j++]))
			return false;
	}
}

/* The same interface list, as written (@one alone when @n <= 1)? */
static bool same_ifaces(const char *a1, size_t an, const char *const *av,
			const char *b1, size_t bn, const char *const *bv)
{
	size_t ac = an > 1 ? an : (a1 || an) ? 1 : 0;
	size_t bc = bn > 1 ? bn : (b1 || bn) ? 1 : 0;

	if (ac != bc)
		return false;
	for (size_t i = 0; i < ac; i++)
		if (strcmp(iface_at(a1, an, av, i), iface_at(b1, bn, bv, i)) != 0)
			return false;
	return true;
}

/* Is dynamic set membership the same: no dynamic set, or the same one? */
static bool same_dynamic(const struct pc_addr_set *a, const struct pc_addr_set *b)
{
	bool da = pc_addr_set_is_dynamic(a), db = pc_addr_set_is_dynamic(b);

	return da == db && (!da || strcmp(a->name, b->name) == 0);
}

/*
 * Do @a and @b match the same packets of family @f outside their
 * protocols? Every match field but the protocols must be equal: the class
 * stands for all its rules with the first one's fields (whole interface
 * lists, `out on`, negation and dynamic sets included).
 */
static bool same_class(const struct pc_rule *a, const struct pc_rule *b, int f)
{
	if (!same_ifaces(a->iface, a->n_ifaces, a->ifaces, b->iface, b->n_ifaces, b->ifaces) ||
	    !same_ifaces(NULL, a->n_oifaces, a->oifaces, NULL, b->n_oifaces, b->oifaces))
		return false;
	if (a->iface_not != b->iface_not || a->saddr_not != b->saddr_not ||
	    a->daddr_not != b->daddr_not ||
	    !same_dynamic(&a->saddr, &b->saddr) || !same_dynamic(&a->daddr, &b->daddr))
		return false;
	return same_addr_set(&a->saddr, &b->saddr, fam_bit(f)) &&
	       same_addr_set(&a->daddr, &b->daddr, fam_bit(f));
}

static unsigned class_hash(const struct cover *c, const struct pc_rule *r, int f)
{
	uint32_t h = 2166136261u ^ (uint32_t)f ^ (r->saddr.n ? 2u : 0u) ^ (r->daddr.n ? 4u : 0u);
	size_t ni = r->n_ifaces > 1 ? r->n_ifaces : r->iface ? 1 : 0;

	/* every field same_class() compares that is cheap to hash */
	for (size_t i = 0; i < ni; i++) {
		const char *name = iface_at(r->iface, r->n_ifaces, r->ifaces, i);

		h = hash_bytes(h, name, strlen(name) + 1);
	}
	h ^= 0x9e3779b9u;
	for (size_t i = 0; i < r->n_oifaces; i++)
		h = hash_bytes(h, r->oifaces[i], strlen(r->oifaces[i]) + 1);
	h = addr_set_hash(h, &r->saddr, fam_bit(f));
	h = addr_set_hash(h ^ 0x5bd1e995u, &r->daddr, fam_bit(f));
	return h & c->kmask;
}

/* Adds [@lo, @hi] to the merged intervals of @k for protocol index @t. */
static void class_add_ports(struct klass *k, int t, unsigned lo, unsigned hi)
{
	struct pc_port_range *v = k->ports[t];
	size_t n = k->n_ports[t], a = 0, b;

	/* a: the first interval that ends at or after lo - 1 (touches or follows) */
	b = n;
	while (a < b) {
		size_t mid = (a + b) / 2;

		if ((unsigned)v[mid].hi + 1 < lo)
			a = mid + 1;
		else
			b = mid;
	}
	/* b: one past the last interval that starts at or before hi + 1 */
	for (b = a; b < n && v[b].lo <= hi + 1; b++) {
		if (v[b].lo < lo)
			lo = v[b].lo;
		if (v[b].hi > hi)
			hi = v[b].hi;
	}
	if (a == b) {
		v = k->ports[t] = xgrow(v, &k->cap_ports[t], n + 1, sizeof(*v));
		memmove(&v[a + 1], &v[a], (n - a) * sizeof(*v));
		n++;
	} else if (b - a > 1) {
		memmove(&v[a + 1], &v[b], (n - b) * sizeof(*v));
		n -= b - a - 1;
	}
	v[a].lo = (uint16_t)lo;
	v[a].hi = (uint16_t)hi;
	k->n_ports[t] = n;
}

static void class_add_l4(struct klass *k, const struct pc_rule *r)
{
	k->sig |= l4_sig(r);
	if (r->n_l4 == 0)
		k->any_l4 = true;
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l = &r->l4[i];
		int t = tidx(l->proto);
		int icmp = l->proto == PC_PROTO_ICMP ? 0 : l->proto == PC_PROTO_ICMPV6 ? 1 : -1;

		if ((t >= 0 && l->dports.n == 0) || (icmp >= 0 && l->n_types == 0) ||
		    (t < 0 && icmp < 0))
			k->proto_all[l->proto] = true;
		else if (t >= 0)
			for (size_t j = 0; j < l->dports.n; j++)
				class_add_ports(k, t, l->dports.v[j].lo, l->dports.v[j].hi);
		else
			for (size_t j = 0; j < l->n_types; j++)
				set_bits(k->types[icmp], l->types[j], l->types[j]);
	}
}

static unsigned port_hash(const struct cover *c, const struct klass *k, unsigned proto,
			  unsigned port)
{
	uint64_t h = ((uint64_t)(uintptr_t)k >> 4) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)proto << 17 | port) * 0xc2b2ae3d27d4eb4full;
	return (unsigned)(h >> 32 ^ h) & c->pmask;
}

static struct port_entry *port_find(struct cover *c, const struct klass *k, unsigned proto,
				    unsigned port, bool add)
{
	unsigned h = port_hash(c, k, proto, port);
	struct port_entry *e;

	for (e = c->phash[h]; e; e = e->next)
		if (e->k == k && e->proto == proto && e->port == port)
			return e;
	if (!add)
		return NULL;
	e = xzalloc(sizeof(*e));
	e->k = k;
	e->proto = (uint8_t)proto;
	e->port = port;
	e->h = h;
	e->next = c->phash[h];
	c->phash[h] = e;
	c->pused = xgrow(c->pused, &c->cap_pused, c->n_pused + 1, sizeof(*c->pused));
	c->pused[c->n_pused++] = e;
	return e;
}

/* Files rule @idx (@r) of class @k where single_cover() will look for it. */
static void class_index_rule(struct cover *c, struct klass *k, const struct pc_rule *r,
			     size_t idx)
{
	bool wide = r->n_l4 == 0;

	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l = &r->l4[i];

		if (!pc_proto_has_ports(l->proto) || l->dports.n == 0) {
			wide = true;
			continue;
		}
		for (size_t j = 0; j < l->dports.n; j++) {
			unsigned lo = l->dports.v[j].lo, hi = l->dports.v[j].hi;

			unsigned step = hi - lo >= 64 ? 64 : 1;

			if (hi - lo >= WIDE) {
				wide = true;
				continue;
			}
			if (step > 1) {
				lo = BLOCK + lo / 64;
				hi = BLOCK + hi / 64;
			}
			for (unsigned p = lo; p <= hi; p++) {
				struct port_entry *e = port_find(c, k, l->proto, p, true);

				c->work++;
				if (e->n < SINGLE_TRIES && (e->n == 0 || e->v[e->n - 1] != idx)) {
					e->v = xgrow(e->v, &e->cap, e->n + 1, sizeof(*e->v));
					e->v[e->n++] = idx;
				}
			}
		}
	}
	if (wide && k->n_wide < SINGLE_TRIES) {
		k->wide = xgrow(k->wide, &k->cap_wide, k->n_wide + 1, sizeof(*k->wide));
		k->wide[k->n_wide++] = idx;
	}
}

/* Adds @r (rule @idx of the chain) to its class of each of its families. */
static void class_add(struct cover *c, const struct pc_rule *r, size_t idx)
{
	for (int f = 0; f < 2; f++) {
		unsigned h;
		struct klass *k;

		if (!(r->families & fam_bit(f)))
			continue;
		h = class_hash(c, r, f);
		for (k = c->khash[h]; k; k = k->next) {
			c->work++;
			if (k->f == f && same_class(k->rep, r, f))
				break;
		}
		if (!k) {
			struct bound_entry *be;

			k = xzalloc(sizeof(*k));
			k->rep = r;
			k->f = f;
			k->h = h;
			bounds_of(r, &k->bounds);
			k->next = c->khash[h];
			c->khash[h] = k;
			c->cls = xgrow(c->cls, &c->cap_cls, c->n_cls + 1, sizeof(*c->cls));
			c->cls[c->n_cls] = k;
			be = bound_find(c, &k->bounds.s[f], &k->bounds.d[f], true);
			be->v = xgrow(be->v, &be->cap, be->n + 1, sizeof(*be->v));
			be->v[be->n++] = c->n_cls;
			c->n_cls++;
		}
		class_add_l4(k, r);
		class_index_rule(c, k, r, idx);
	}
}

static void class_clear(struct cover *c)
{
	for (size_t i = 0; i < c->n_cls; i++) {
		struct klass *k = c->cls[i];

		c->khash[k->h] = NULL;
		for (int t = 0; t < N_T; t++)
			free(k->ports[t]);
		free(k->wide);
		free(k);
	}
	c->n_cls = 0;
	for (size_t i = 0; i < c->n_pused; i++) {
		c->phash[c->pused[i]->h] = NULL;
		free(c->pused[i]->v);
		free(c->pused[i]);
	}
	c->n_pused = 0;
}

/* Do @e's protocols, ports and types hold all of @r's? */
static bool l4_covers(const struct pc_rule *e, const struct pc_rule *r)
{
	bool ok = true;

	if (e->n_l4 == 0)
		return true;
	if (r->n_l4 == 0)
		return false;
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
			/* each interval inside one of e's (merged) intervals */
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
	return ok;
}

/*
 * Do the earlier rules (the wildcard bitmaps and the classes) together
 * match every packet @r matches? Leaves in c->cand the classes of @r's
 * first family that match all of @r's addresses of that family: one rule
 * alone can only cover @r from one of them.
 */
static bool covered(struct cover *c, const struct pc_rule *r)
{
	struct klass **ps = NULL;
	size_t cap = 0;
	bool ok = true;
	struct bounds rb;
	uint64_t rsig = l4_sig(r);

	bounds_of(r, &rb);
	c->n_cand[0] = c->n_cand[1] = 0;

	for (int f = 0; f < 2; f++) {
		const struct famcov *fc = &c->fam[f];
		size_t np = 0;

		if (!(r->families & fam_bit(f)))
			continue;
		/*
		 * Only classes whose bounds are ancestors of ours (or ours) can
		 * cover: those are looked up by their two bounds, at the prefix
		 * lengths where some class has one.
		 */
		for (int sl = rb.s[f].plen; sl >= 0; sl--) {
			struct pc_addr sa = rb.s[f];

			if (!plen_present(c, f, 0, (unsigned)sl))
				continue;
			sa.plen = (uint8_t)sl;
			pc_prefix_mask(&sa);
			for (int dl = rb.d[f].plen; dl >= 0; dl--) {
				struct pc_addr da = rb.d[f];
				const struct bound_entry *be;

				if (!plen_present(c, f, 1, (unsigned)dl))
					continue;
				da.plen = (uint8_t)dl;
				pc_prefix_mask(&da);
				c->work++;
				be = bound_find(c, &sa, &da, false);
				if (!be)
					continue;
				if (c->budget < be->n)
					break;
				c->budget -= be->n;
				c->work += be->n;
				for (size_t j = 0; j < be->n; j++) {
					struct klass *k = c->cls[be->v[j]];

					if (!(k->sig & rsig) || !covers_outside_l4(k->rep, r, f))
						continue;
					ps = xgrow(ps, &cap, np + 1, sizeof(*ps));
					ps[np++] = k;
					{
						c->cand[f] = xgrow(c->cand[f], &c->cap_cand[f],
								   c->n_cand[f] + 1, sizeof(*c->cand[f]));
						c->cand[f][c->n_cand[f]++] = k;
					}
				}
			}
		}
		if (!ok || fc->all)
			continue;
		for (size_t i = 0; i < np; i++)
			if (ps[i]->any_l4)
				goto next_family;
		if (r->n_l4 == 0) {
			ok = false;
			continue;
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
					ok = ports_covered(c, fc, ps, np, l->proto, l->dports.v[j].lo,
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

/*
 * The rules of the classes c->cand[@f] that single_cover() tries for @r:
 * their wide rules, and with @by_port those holding the port of @r where
 * the fewest do. Listed in c->runs when @copy; returns how many.
 */
static size_t cand_rules(struct cover *c, const struct pc_rule *r, bool by_port, int f,
			 bool copy)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_cand[f]; i++) {
		const struct klass *k = c->cand[f][i];
		const struct port_entry *best[2] = { NULL, NULL };
		size_t best_n = SIZE_MAX;

		if (copy && k->n_wide) {
			c->runs = xgrow(c->runs, &c->cap_runs, c->n_runs + 1, sizeof(*c->runs));
			c->runs[c->n_runs++] = (struct run){ k->wide, k->n_wide, 0 };
		}
		n += k->n_wide;
		if (!by_port)
			continue;
		for (size_t m = 0; m < r->n_l4 && best_n; m++) {
			const struct pc_l4 *l = &r->l4[m];

			for (size_t j = 0; j < l->dports.n && best_n; j++) {
				unsigned p = l->dports.v[j].lo;
				const struct port_entry *pe = port_find(c, k, l->proto, p, false);
				const struct port_entry *be = port_find(c, k, l->proto,
									BLOCK + p / 64, false);
				size_t cnt = (pe ? pe->n : 0) + (be ? be->n : 0);

				c->work++;
				if (cnt < best_n) {
					best_n = cnt;
					best[0] = pe;
					best[1] = be;
				}
			}
		}
		for (int b = 0; b < 2; b++) {
			if (best[b] && copy) {
				c->runs = xgrow(c->runs, &c->cap_runs, c->n_runs + 1,
						sizeof(*c->runs));
				c->runs[c->n_runs++] = (struct run){ best[b]->v, best[b]->n, 0 };
			}
			n += best[b] ? best[b]->n : 0;
		}
	}
	return n;
}

/*
 * The first earlier rule that alone covers @r (rule @idx), for the message;
 * NULL if none found. Only the rules of the classes covered() left in
 * c->cand can, as the others miss some of @r's addresses; of those, only
 * the wide ones and those holding @r's first port (see struct port_entry).
 * Those are kept to their first SINGLE_TRIES per class and port: trying
 * every rule of a class of thousands for every shadowed rule would make
 * the lint quadratic; past them, the message says "earlier rules together".
 */
static const struct pc_rule *single_cover(struct cover *c, const struct pc_chain *ch,
					  size_t idx, unsigned long *budget)
{
	const struct pc_rule *r = &ch->rules[idx];
	/* a rule of a protocol's every port or of one without ports is only
	 * covered by a wide one */
	bool by_port = r->n_l4 > 0;
	const struct pc_rule *found = NULL;
	size_t n, count[2] = { SIZE_MAX, SIZE_MAX };
	int f;

	for (size_t i = 0; i < r->n_l4; i++)
		if (!pc_proto_has_ports(r->l4[i].proto) || r->l4[i].dports.n == 0)
			by_port = false;
	/* the cover is in a class of each family of @r: take the family
	 * whose classes offer the fewest rules to try */
	for (f = 0; f < 2; f++)
		if (r->families & fam_bit(f))
			count[f] = cand_rules(c, r, by_port, f, false);
	f = count[1] < count[0];
	c->n_runs = 0;
	cand_rules(c, r, by_port, f, true);
	/* the runs merged, in the order of the chain: the first that covers
	 * is the one to name */
	for (size_t tries = 0, last = SIZE_MAX; !found && tries < SINGLE_TRIES && *budget;) {
		struct run *min = NULL;
		const struct pc_rule *e;
		bool ok;

		for (size_t i = 0; i < c->n_runs; i++)
			if (c->runs[i].at < c->runs[i].n &&
			    (!min || c->runs[i].v[c->runs[i].at] < min->v[min->at]))
				min = &c->runs[i];
		c->work += c->n_runs;
		if (!min)
			break;
		n = min->v[min->at++];
		if (n == last)
			continue;
		last = n;
		tries++;
		(*budget)--;
		e = &ch->rules[n];
		ok = l4_covers(e, r);
		for (int g = 0; g < 2 && ok; g++)
			if (r->families & fam_bit(g))
				ok = covers_outside_l4(e, r, g);
		if (ok)
			found = e;
	}
	return found;
}

unsigned long long pc_lint_shadowing(const struct pc_ir *ir, struct pc_diag *diag)
{
	struct cover *c = xzalloc(sizeof(*c));
	size_t longest = 0;
	unsigned long long work;

	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		if (ir->chains[d].n > longest)
			longest = ir->chains[d].n;
	c->mask = 1024 - 1;
	while (c->mask + 1 < BOUND_HASH_MAX && c->mask + 1 < 2 * longest)
		c->mask = c->mask * 2 + 1;
	c->hash = xcalloc(c->mask + 1, sizeof(*c->hash));
	c->kmask = c->mask;
	c->khash = xcalloc(c->kmask + 1, sizeof(*c->khash));
	/* a rule is filed under a few ports */
	c->pmask = c->mask;
	while (c->pmask + 1 < 8 * BOUND_HASH_MAX && c->pmask + 1 < 8 * longest)
		c->pmask = c->pmask * 2 + 1;
	c->phash = xcalloc(c->pmask + 1, sizeof(*c->phash));

	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *ch = &ir->chains[d];
		/* bounds of the worst case, linear in the rules */
		unsigned long single_budget = PAIR_BUDGET / 4 + 64 * ch->n;

		memset(c->fam, 0, sizeof(c->fam));
		class_clear(c);
		bound_clear(c);
		c->budget = PAIR_BUDGET + 256 * ch->n;
		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_rule *r = &ch->rules[i];

			c->work++;
			if (r->origin == PC_ORIGIN_POLICY && covered(c, r)) {
				const struct pc_rule *e = single_cover(c, ch, i, &single_budget);

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
			}
			if (!can_cover(r))
				continue;
			/* a rule that never matches adds nothing to what the earlier
			 * ones cover, but it may be the one a later rule names */
			if (is_wildcard(r))
				add_wildcard(c, r);
			class_add(c, r, i);
		}
	}
	class_clear(c);
	bound_clear(c);
	work = c->work;
	free(c->used);
	free(c->hash);
	free(c->khash);
	free(c->phash);
	free(c->pused);
	free(c->cls);
	free(c->cand[0]);
	free(c->cand[1]);
	free(c->runs);
	free(c);
	return work;
}
