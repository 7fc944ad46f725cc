/* SPDX-License-Identifier: MIT */
/*
 * The shadowing lint's classes: earlier rules with the same families,
 * interface and addresses, the union of their ports and types, and the
 * indexes that find them: by (source, destination) bound and by port
 * (lint_internal.h, lint.c).
 */
#include "policy/lint_internal.h"

static unsigned bound_hash(const struct cover *c, const struct pc_addr *s,
			   const struct pc_addr *d)
{
	uint64_t h = s->family ^ (uint64_t)s->plen << 8 ^ (uint64_t)d->plen << 16;
	const uint8_t *w[4] = { s->a, s->a + 8, d->a, d->a + 8 };

	/* a word at a time: the lint asks this for every rule and bound */
	for (unsigned i = 0; i < 4; i++)
		h = (h ^ pc_be64_load(w[i])) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h ^ h >> 32) & c->mask;
}

static bool same_prefix(const struct pc_addr *a, const struct pc_addr *b)
{
	return a->family == b->family && a->plen == b->plen && memcmp(a->a, b->a, 16) == 0;
}

struct bound_entry *bound_find(struct cover *c, const struct pc_addr *s,
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
void bound_clear(struct cover *c)
{
	for (size_t i = 0; i < c->n_used; i++) {
		c->hash[c->used[i]->h] = NULL;
		free(c->used[i]->v);
		free(c->used[i]);
	}
	c->n_used = 0;
	memset(c->plens, 0, sizeof(c->plens));
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
		return lint_bit(k->types[proto == PC_PROTO_ICMPV6], (unsigned)v);
	return false;
}

/*
 * Is value @v (port or type; -1: the whole protocol) of @proto in family @f
 * covered by the wildcard bitmaps or one of the classes @ps?
 */
bool value_covered(const struct famcov *fc, struct klass **ps, size_t np,
		   unsigned proto, int f, int v)
{
	int t = tidx(proto);

	if (fc->all || fc->proto_all[proto])
		return true;
	if (v >= 0) {
		if (t >= 0 && lint_bit(fc->ports[t], (unsigned)v))
			return true;
		if (t < 0 && proto == (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP) &&
		    lint_bit(fc->types, (unsigned)v))
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
bool ports_covered(struct cover *c, const struct famcov *fc, struct klass **ps,
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
uint64_t l4_sig(const struct pc_rule *r)
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

/*
 * A hash of the prefixes of family @fam of @set: their number and at most
 * ADDR_HASH_SAMPLES of them spread evenly, first and last included. Equal
 * sets hash equal, which is all the class table needs (same_addr_set()
 * decides); hashing every prefix of a million-entry list was a tenth of
 * reading it, for every rule that uses it.
 */
#define ADDR_HASH_SAMPLES 64
static uint32_t addr_set_hash(uint32_t h, const struct pc_addr_set *set, unsigned fam)
{
	size_t lo, hi, n, step;

	fam_range(set, fam, &lo, &hi);
	n = hi - lo;
	h = hash_bytes(h, &n, sizeof(n));
	step = n > ADDR_HASH_SAMPLES ? (n - 1) / (ADDR_HASH_SAMPLES - 1) : 1;
	for (size_t i = lo; i < hi; i += step) {
		h = hash_bytes(h, &set->v[i].plen, 1);
		h = hash_bytes(h, set->v[i].a, 16);
	}
	if (n)
		h = hash_bytes(h, set->v[hi - 1].a, 16);
	return h;
}

/* Do @a and @b hold the same prefixes of family @fam? (An empty set: any.) */
static bool same_addr_set(const struct pc_addr_set *a, const struct pc_addr_set *b, unsigned fam)
{
	size_t i = 0, j = 0;

	if ((a->n == 0) != (b->n == 0))
		return false;
	/* rules naming the same group share its prefixes */
	if (a->v == b->v && a->n == b->n)
		return true;
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
	    a->sports.n != b->sports.n ||
	    (a->sports.n && memcmp(a->sports.v, b->sports.v, a->sports.n * sizeof(*a->sports.v))) ||
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
				lint_set_bits(k->types[icmp], l->types[j], l->types[j]);
	}
}

static unsigned port_hash(const struct cover *c, const struct klass *k, unsigned proto,
			  unsigned port)
{
	uint64_t h = ((uint64_t)(uintptr_t)k >> 4) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)proto << 17 | port) * 0xc2b2ae3d27d4eb4full;
	return (unsigned)(h >> 32 ^ h) & c->pmask;
}

struct port_entry *port_find(struct cover *c, const struct klass *k, unsigned proto,
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
void class_add(struct cover *c, const struct pc_rule *r, size_t idx)
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

void class_clear(struct cover *c)
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
