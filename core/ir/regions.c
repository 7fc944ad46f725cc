/* SPDX-License-Identifier: MIT */
/* Exact difference in meaning of two IRs as boxes of packet space (regions.h). */
#include "ir/regions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ir/eval.h"
#include "ir/regions_internal.h"

/* ---- 128-bit numbers ---- */

int pc_u128_cmp(struct pc_u128 a, struct pc_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

struct pc_rg_iv pc_rg_full(enum pc_rg_dim dim, unsigned fam)
{
	struct pc_rg_iv iv = { u128(0), u128(0) };

	switch (dim) {
	case PC_RG_IFACE:
	case PC_RG_OIFACE:
		iv.hi = u128(UINT32_MAX);  /* clipped to the classes by the root box */
		break;
	case PC_RG_STATE:
		iv.hi = u128(3);
		break;
	case PC_RG_SADDR:
	case PC_RG_DADDR:
		iv.hi = fam == PC_FAM_IPV4 ? u128(UINT32_MAX) : U128_MAX;
		break;
	case PC_RG_PROTO:
		iv.hi = u128(255);
		break;
	case PC_RG_DPORT:
	case PC_RG_SPORT:
		iv.hi = u128(65535);
		break;
	default:
		if (dim >= PC_RG_COND0 && dim < __PC_RG_DIM_MAX) {
			iv.hi = u128(1);
			break;
		}
		PC_BUG("dimension %d", (int)dim);
	}
	return iv;
}

/* The interval of addresses a prefix holds. */
static struct pc_rg_iv prefix_iv(const struct pc_addr *a)
{
	struct pc_rg_iv iv;
	uint8_t lo[16] = { 0 }, hi[16];
	unsigned bytes = a->family == PC_FAM_IPV4 ? 4 : 16;

	memcpy(lo, a->a, bytes);
	memcpy(hi, a->a, bytes);
	for (unsigned bit = a->plen; bit < bytes * 8; bit++)
		hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	iv.lo = iv.hi = u128(0);
	for (unsigned i = 0; i < bytes; i++) {
		struct pc_u128 *l = &iv.lo, *h = &iv.hi;

		l->hi = (l->hi << 8) | (l->lo >> 56);
		l->lo = (l->lo << 8) | lo[i];
		h->hi = (h->hi << 8) | (h->lo >> 56);
		h->lo = (h->lo << 8) | hi[i];
	}
	return iv;
}

/* ---- interval lists ---- */

struct ivlist {
	size_t n;
	struct pc_rg_iv *v;
};

static int iv_cmp(const void *a, const void *b)
{
	return pc_u128_cmp(((const struct pc_rg_iv *)a)->lo,
			   ((const struct pc_rg_iv *)b)->lo);
}

/* Sorts and merges overlapping or adjacent intervals. */
static void ivlist_normalize(struct ivlist *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), iv_cmp);
	for (size_t i = 1; i < l->n; i++) {
		struct pc_rg_iv *last = &l->v[k];

		if (pc_u128_cmp(last->hi, U128_MAX) == 0 ||
		    pc_u128_cmp(l->v[i].lo, u128_inc(last->hi)) <= 0) {
			if (pc_u128_cmp(l->v[i].hi, last->hi) > 0)
				last->hi = l->v[i].hi;
		} else {
			l->v[++k] = l->v[i];
		}
	}
	l->n = k + 1;
}

static void ivlist_add(struct ivlist *l, size_t *cap, struct pc_rg_iv iv)
{
	l->v = xgrow(l->v, cap, l->n + 1, sizeof(l->v[0]));
	l->v[l->n++] = iv;
}

/* Replaces normalized @l by the rest of @full. */
static void ivlist_complement(struct ivlist *l, struct pc_rg_iv full)
{
	struct ivlist c = { 0, NULL };
	size_t cap = 0;
	struct pc_u128 next = full.lo;
	bool done = false;

	for (size_t i = 0; i < l->n && !done; i++) {
		if (pc_u128_cmp(l->v[i].lo, next) > 0)
			ivlist_add(&c, &cap, (struct pc_rg_iv){ next, u128_dec(l->v[i].lo) });
		if (pc_u128_cmp(l->v[i].hi, full.hi) >= 0)
			done = true;
		else
			next = u128_inc(l->v[i].hi);
	}
	if (!done)
		ivlist_add(&c, &cap, (struct pc_rg_iv){ next, full.hi });
	free(l->v);
	*l = c;
}

static void ivlist_full(struct ivlist *l, enum pc_rg_dim dim, unsigned fam)
{
	l->n = 1;
	l->v = xmalloc(sizeof(l->v[0]));
	l->v[0] = pc_rg_full(dim, fam);
}

/* ---- cubes ---- */

/* One protocol alternative of one rule, or a chain's default (@rule -1). */
struct cube {
	struct ivlist d[__PC_RG_DIM_MAX];
	long rule;
	enum pc_verdict verdict;
	long nat;             /* struct pc_rg_side: the dnat before @rule, or the translating rule */
	uint64_t xlat;        /* a translation's identity (nat_xlat()), 0 none or a filter */
	bool deflt;           /* the chain's default, last */
	uint64_t hash;        /* of the intervals, the verdict and xlat: identity across IRs */
	int ndims;            /* the dimensions past these are whole in every cube */
};

/* The cubes of one chain in one family, in order, the default last. */
struct cubes {
	size_t n, cap;
	struct cube *v;
};

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ull;
	}
}

static void cube_hash(struct cube *c)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
		hash_bytes(&h, &c->d[d].n, sizeof(c->d[d].n));
		for (size_t i = 0; i < c->d[d].n; i++) {
			const struct pc_rg_iv *iv = &c->d[d].v[i];
			uint64_t w[4] = { iv->lo.hi, iv->lo.lo, iv->hi.hi, iv->hi.lo };

			hash_bytes(&h, w, sizeof(w));
		}
	}
	/*
	 * The defaults of the two IRs count as one cube whatever their
	 * verdicts: where both decide, pc_regions_compare() reports one
	 * region for the whole rest instead of its thousands of pieces.
	 */
	if (!c->deflt)
		hash_bytes(&h, &c->verdict, sizeof(c->verdict));
	hash_bytes(&h, &c->xlat, sizeof(c->xlat));
	c->hash = h;
}

/*
 * Same packets, same verdict (the rule's place may differ); the defaults
 * of the two IRs are the same cube (see cube_hash()).
 */
static bool cube_same(const struct cube *a, const struct cube *b)
{
	if (a == b)
		return true;
	if (a->deflt != b->deflt)
		return false;
	if (a->hash != b->hash || (!a->deflt && a->verdict != b->verdict) || a->xlat != b->xlat)
		return false;
	for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
		if (a->d[d].n != b->d[d].n)
			return false;
		for (size_t i = 0; i < a->d[d].n; i++)
			if (pc_u128_cmp(a->d[d].v[i].lo, b->d[d].v[i].lo) ||
			    pc_u128_cmp(a->d[d].v[i].hi, b->d[d].v[i].hi))
				return false;
	}
	return true;
}

static void cube_free(struct cube *c)
{
	for (int d = 0; d < __PC_RG_DIM_MAX; d++)
		free(c->d[d].v);
}

static bool str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Does rule pattern @pat match every name of class @cls (else none)? */
static bool iface_class_match(const struct pc_rg_ifaces *ifs, size_t cls,
			      const char *pat)
{
	size_t n = strlen(pat);
	bool wild = n && pat[n - 1] == '*';

	if (cls == ifs->n)
		return false;
	if (!wild)
		return !ifs->wild[cls] && strcmp(ifs->names[cls], pat) == 0;
	return strncmp(ifs->names[cls], pat, n - 1) == 0;
}

const char *pc_regions_unmodelled(const struct pc_rule *r)
{
	if (r->n_map)
		return "verdict maps (compare reads the unoptimised policy)";
	return NULL;
}

/*
 * The cube of @r's protocol alternative @l4 (NULL: any protocol) in family
 * @fam, or false when the rule cannot match that family.
 */
static bool cube_of(const struct pc_rule *r, const struct pc_l4 *l4,
		    unsigned fam, const struct pc_rg_ifaces *ifs, const int *conds,
		    struct cube *c)
{
	size_t cap;

	memset(c, 0, sizeof(*c));
	c->verdict = r->verdict;
	c->nat = -1;
	/* interface classes */
	if (r->iface) {
		size_t m = r->n_ifaces > 1 ? r->n_ifaces : 1;

		cap = 0;
		/* the classes any name of the list matches, or with `on not`
		 * every other one (the class of unnamed interfaces, ifs->n, too) */
		for (size_t i = 0; i <= ifs->n; i++) {
			bool in = false;

			for (size_t k = 0; k < m && !in; k++)
				in = iface_class_match(ifs, i, r->n_ifaces > 1 ? r->ifaces[k] :
										 r->iface);
			if (in != r->iface_not)
				ivlist_add(&c->d[PC_RG_IFACE], &cap,
					   (struct pc_rg_iv){ u128(i), u128(i) });
		}
		ivlist_normalize(&c->d[PC_RG_IFACE]);
	} else {
		ivlist_full(&c->d[PC_RG_IFACE], PC_RG_IFACE, fam);
	}
	/* `out on`: the classes any name of the list matches */
	if (r->n_oifaces) {
		cap = 0;
		for (size_t i = 0; i <= ifs->n; i++) {
			bool in = false;

			for (size_t k = 0; k < r->n_oifaces && !in; k++)
				in = iface_class_match(ifs, i, r->oifaces[k]);
			if (in)
				ivlist_add(&c->d[PC_RG_OIFACE], &cap,
					   (struct pc_rg_iv){ u128(i), u128(i) });
		}
		ivlist_normalize(&c->d[PC_RG_OIFACE]);
	} else {
		ivlist_full(&c->d[PC_RG_OIFACE], PC_RG_OIFACE, fam);
	}
	if (r->ct_state) {
		cap = 0;
		for (unsigned b = 0; b < 4; b++)
			if (r->ct_state & (1u << b))
				ivlist_add(&c->d[PC_RG_STATE], &cap,
					   (struct pc_rg_iv){ u128(b), u128(b) });
		ivlist_normalize(&c->d[PC_RG_STATE]);
	} else {
		ivlist_full(&c->d[PC_RG_STATE], PC_RG_STATE, fam);
	}
	for (int d = PC_RG_SADDR; d <= PC_RG_DADDR; d++) {
		const struct pc_addr_set *s = d == PC_RG_SADDR ? &r->saddr : &r->daddr;

		if (s->n == 0) {
			ivlist_full(&c->d[d], d, fam);
			continue;
		}
		cap = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].family == fam)
				ivlist_add(&c->d[d], &cap, prefix_iv(&s->v[i]));
		ivlist_normalize(&c->d[d]);
		/* `from not`: the rest of the family (all of it without a prefix there) */
		if (d == PC_RG_SADDR ? r->saddr_not : r->daddr_not)
			ivlist_complement(&c->d[d], pc_rg_full(d, fam));
	}
	if (!l4) {
		ivlist_full(&c->d[PC_RG_PROTO], PC_RG_PROTO, fam);
		ivlist_full(&c->d[PC_RG_DPORT], PC_RG_DPORT, fam);
	} else {
		c->d[PC_RG_PROTO].n = 1;
		c->d[PC_RG_PROTO].v = xmalloc(sizeof(struct pc_rg_iv));
		c->d[PC_RG_PROTO].v[0] = (struct pc_rg_iv){ u128(l4->proto), u128(l4->proto) };
		cap = 0;
		if (pc_proto_has_ports(l4->proto) && l4->dports.n) {
			for (size_t i = 0; i < l4->dports.n; i++)
				ivlist_add(&c->d[PC_RG_DPORT], &cap,
					   (struct pc_rg_iv){ u128(l4->dports.v[i].lo),
							      u128(l4->dports.v[i].hi) });
		} else if (!pc_proto_has_ports(l4->proto) && l4->n_types) {
			for (size_t i = 0; i < l4->n_types; i++)
				ivlist_add(&c->d[PC_RG_DPORT], &cap,
					   (struct pc_rg_iv){ u128(l4->types[i]),
							      u128(l4->types[i]) });
		} else {
			ivlist_full(&c->d[PC_RG_DPORT], PC_RG_DPORT, fam);
		}
		ivlist_normalize(&c->d[PC_RG_DPORT]);
	}
	/* issue 14: source ports, for the protocols with ports (the IR has
	 * them only on rules whose every protocol has ports) */
	if (l4 && pc_proto_has_ports(l4->proto) && r->sports.n) {
		cap = 0;
		for (size_t i = 0; i < r->sports.n; i++)
			ivlist_add(&c->d[PC_RG_SPORT], &cap,
				   (struct pc_rg_iv){ u128(r->sports.v[i].lo),
						      u128(r->sports.v[i].hi) });
		ivlist_normalize(&c->d[PC_RG_SPORT]);
	} else {
		ivlist_full(&c->d[PC_RG_SPORT], PC_RG_SPORT, fam);
	}
	/* the conditions: membership (or not, with `not`), under the rate */
	for (int k = 0; k < PC_RG_COND_DIMS; k++) {
		struct ivlist *l = &c->d[PC_RG_COND0 + k];

		if (conds[k] < 0) {
			ivlist_full(l, PC_RG_COND0 + k, fam);
			continue;
		}
		l->n = 1;
		l->v = xmalloc(sizeof(l->v[0]));
		l->v[0] = (struct pc_rg_iv){ u128((uint64_t)conds[k]), u128((uint64_t)conds[k]) };
	}
	for (int d = 0; d < __PC_RG_DIM_MAX; d++)
		if (c->d[d].n == 0) {
			cube_free(c);
			return false;
		}
	return true;
}

static void cubes_push(struct cubes *cs, struct cube *c, int ndims)
{
	c->ndims = ndims;
	cube_hash(c);
	cs->v = xgrow(cs->v, &cs->cap, cs->n + 1, sizeof(cs->v[0]));
	cs->v[cs->n++] = *c;
}

/* ---- conditions ---- */

static void hash_str(uint64_t *h, const char *s)
{
	if (s)
		hash_bytes(h, s, strlen(s) + 1);
	else
		hash_bytes(h, "", 1);
}

static void hash_addrs(uint64_t *h, const struct pc_addr_set *s, bool not)
{
	hash_bytes(h, &s->n, sizeof(s->n));
	for (size_t i = 0; i < s->n; i++)
		hash_bytes(h, &s->v[i], sizeof(s->v[i]));
	hash_str(h, pc_addr_set_is_dynamic(s) ? s->name : NULL);
	hash_bytes(h, &not, sizeof(not));
}

/*
 * The bucket of a limited rule: what it matches, its verdict and its
 * limit. Rules equal in all of these are the same bucket in OLD and NEW
 * (the how-many-th such rule of the chain goes in by the caller).
 */
static uint64_t limit_key(const struct pc_rule *r, enum pc_direction dir)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t m = r->n_ifaces > 1 ? r->n_ifaces : r->iface ? 1 : 0;

	hash_bytes(&h, &dir, sizeof(dir));
	hash_bytes(&h, &r->verdict, sizeof(r->verdict));
	hash_bytes(&h, &r->families, sizeof(r->families));
	for (size_t k = 0; k < m; k++)
		hash_str(&h, r->n_ifaces > 1 ? r->ifaces[k] : r->iface);
	hash_bytes(&h, &r->iface_not, sizeof(r->iface_not));
	for (size_t k = 0; k < r->n_oifaces; k++)
		hash_str(&h, r->oifaces[k]);
	hash_bytes(&h, &r->ct_state, sizeof(r->ct_state));
	hash_addrs(&h, &r->saddr, r->saddr_not);
	hash_addrs(&h, &r->daddr, r->daddr_not);
	for (size_t k = 0; k < r->n_l4; k++) {
		const struct pc_l4 *l = &r->l4[k];

		hash_bytes(&h, &l->proto, sizeof(l->proto));
		for (size_t i = 0; i < l->dports.n; i++)
			hash_bytes(&h, &l->dports.v[i], sizeof(l->dports.v[i]));
		if (l->n_types)
			hash_bytes(&h, l->types, l->n_types);
	}
	hash_bytes(&h, &r->limit, sizeof(r->limit));
	/*
	 * A bucket per source (`per source`) is a condition of the packet
	 * just as one bucket per rule is: whether the packet's own source is
	 * over the rate. Which of a region's sources are over it is not known,
	 * as which of its packets come when a rule's one bucket is empty is
	 * not; the region says "over the per-source rate of LINE" alike.
	 */
	hash_bytes(&h, &r->limit_per_source, sizeof(r->limit_per_source));
	hash_bytes(&h, &r->limit_burst, sizeof(r->limit_burst));
	return h;
}

/* The condition of @kind and @key, added when new; -1 when there are too many. */
static int cond_index(struct pc_rg_result *res, enum pc_rg_cond_kind kind,
		      const char *set, uint64_t key)
{
	for (size_t i = 0; i < res->n_conds; i++)
		if (res->conds[i].kind == kind && res->conds[i].key == key &&
		    (!set || strcmp(res->conds[i].set, set) == 0))
			return (int)i;
	if (res->n_conds == PC_RG_MAX_CONDS)
		return -1;
	res->conds[res->n_conds] = (struct pc_rg_cond){ kind, set, 0, -1, -1, key, -1 };
	return (int)res->n_conds++;
}

static int conds_of(const struct pc_ir *ir, bool is_new, struct pc_rg_result *res,
		    char *err, size_t errlen)
{
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *ch = &ir->chains[d];

		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_rule *r = &ch->rules[i];
			bool full = false;

			if (pc_addr_set_is_dynamic(&r->saddr))
				full |= cond_index(res, PC_RG_COND_SRC_IN, r->saddr.name, 0) < 0;
			if (pc_addr_set_is_dynamic(&r->daddr))
				full |= cond_index(res, PC_RG_COND_DST_IN, r->daddr.name, 0) < 0;
			if (r->limit.rate) {
				uint64_t key = limit_key(r, (enum pc_direction)d);
				size_t nth = 0;
				int c;

				/* the same rule twice in a chain: two buckets */
				for (size_t j = 0; j < i; j++)
					nth += ch->rules[j].limit.rate &&
					       limit_key(&ch->rules[j], (enum pc_direction)d) == key;
				key += nth;
				c = cond_index(res, PC_RG_COND_OVER, NULL, key);
				if (c >= 0) {
					res->conds[c].dir = (enum pc_direction)d;
					*(is_new ? &res->conds[c].new_rule : &res->conds[c].old_rule) = (long)i;
				} else {
					/* the direction's limits will not be modelled */
					res->limits_not_exceeded[d]++;
				}
			}
			if (full) {
				snprintf(err, errlen, "%s %s:%u: compare models at most %d dynamic "
					 "sets and rate limits at once",
					 is_new ? "NEW" : "OLD", r->loc.file ? r->loc.file : "?",
					 r->loc.line, PC_RG_MAX_CONDS);
				return -1;
			}
		}
	}
	return 0;
}

static int conds_build(const struct pc_ir *old, const struct pc_ir *new,
		       struct pc_rg_result *res, char *err, size_t errlen)
{
	int used[__PC_DIR_MAX] = { 0 }, sets = 0;

	if (conds_of(old, false, res, err, errlen) < 0 ||
	    conds_of(new, true, res, err, errlen) < 0)
		return -1;
	/* the sets' dimensions in every direction, then each direction's limits */
	for (size_t i = 0; i < res->n_conds; i++)
		if (res->conds[i].kind != PC_RG_COND_OVER)
			res->conds[i].dim = PC_RG_COND0 + sets++;
	for (size_t i = 0; i < res->n_conds; i++)
		if (res->conds[i].kind == PC_RG_COND_OVER)
			used[res->conds[i].dir]++;
	for (size_t i = 0, k[__PC_DIR_MAX] = { 0 }; i < res->n_conds; i++) {
		struct pc_rg_cond *c = &res->conds[i];

		if (c->kind != PC_RG_COND_OVER)
			continue;
		/*
		 * More limits in a direction than dimensions left: all of them
		 * count as never exceeded there, as explain takes them (said
		 * on stderr by the caller, res->limits_not_exceeded)
		 */
		if (sets + used[c->dir] > PC_RG_COND_DIMS || res->limits_not_exceeded[c->dir]) {
			res->limits_not_exceeded[c->dir]++;
			continue;
		}
		c->dim = PC_RG_COND0 + sets + (int)k[c->dir]++;
	}
	if (sets > PC_RG_COND_DIMS) {
		snprintf(err, errlen, "compare models at most %d dynamic sets at once",
			 PC_RG_COND_DIMS);
		return -1;
	}
	return 0;
}

/*
 * The value each condition needs for rule @i of chain @dir to match: 1
 * (member), 0 (not a member, or under the rate), -1 (any).
 */
static void rule_conds(const struct pc_rg_result *res, enum pc_direction dir, bool is_new,
		       long i, const struct pc_rule *r, int *conds)
{
	for (size_t k = 0; k < PC_RG_COND_DIMS; k++)
		conds[k] = -1;
	for (size_t k = 0; k < res->n_conds; k++) {
		const struct pc_rg_cond *c = &res->conds[k];
		int *v = &conds[c->dim - PC_RG_COND0];

		if (!pc_rg_cond_in(c, dir) || c->dim < 0)
			continue;
		if (c->kind == PC_RG_COND_SRC_IN && pc_addr_set_is_dynamic(&r->saddr) &&
		    strcmp(c->set, r->saddr.name) == 0)
			*v = !r->saddr_not;
		if (c->kind == PC_RG_COND_DST_IN && pc_addr_set_is_dynamic(&r->daddr) &&
		    strcmp(c->set, r->daddr.name) == 0)
			*v = !r->daddr_not;
		if (c->kind == PC_RG_COND_OVER && (is_new ? c->new_rule : c->old_rule) == i)
			*v = 0;
	}
}

/* The condition dimensions in use; the others are whole everywhere. */
static int cond_ndims(const struct pc_rg_result *res)
{
	int ndims = PC_RG_COND0;

	for (size_t k = 0; k < res->n_conds; k++)
		if (res->conds[k].dim >= ndims)
			ndims = res->conds[k].dim + 1;
	return ndims;
}

/* A chain's default (or "no translation"): every packet, last. */
static void push_default(struct cubes *cs, enum pc_verdict verdict, unsigned fam, int ndims)
{
	struct cube c;

	memset(&c, 0, sizeof(c));
	for (int d = 0; d < __PC_RG_DIM_MAX; d++)
		ivlist_full(&c.d[d], d, fam);
	c.rule = -1;
	c.nat = -1;
	c.deflt = true;
	c.verdict = verdict;
	cubes_push(cs, &c, ndims);
}

/* The cubes of the rules [@from, @to) of @ch, appended to @cs. */
static void chain_cubes(const struct pc_chain *ch, enum pc_direction dir, bool is_new,
			unsigned fam, const struct pc_rg_result *res, size_t from, size_t to,
			struct cubes *cs)
{
	const struct pc_rg_ifaces *ifs = &res->ifaces;
	int ndims = cond_ndims(res);
	struct cube c;

	for (size_t i = from; i < to && i < ch->n; i++) {
		const struct pc_rule *r = &ch->rules[i];
		int conds[PC_RG_COND_DIMS];

		if (!(r->families & fam))
			continue;
		rule_conds(res, dir, is_new, (long)i, r, conds);
		if (r->n_l4 == 0) {
			if (cube_of(r, NULL, fam, ifs, conds, &c)) {
				c.rule = (long)i;
				cubes_push(cs, &c, ndims);
			}
			continue;
		}
		for (size_t k = 0; k < r->n_l4; k++)
			if (cube_of(r, &r->l4[k], fam, ifs, conds, &c)) {
				c.rule = (long)i;
				cubes_push(cs, &c, ndims);
			}
	}
}

static void cubes_free(struct cubes *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		cube_free(&cs->v[i]);
	free(cs->v);
}

/* ---- the split ---- */

enum rel { REL_DISJOINT, REL_PARTIAL, REL_COVERS };

/* Index of the first interval of @l ending at or after @x (l->n if none). */
static size_t ivlist_find(const struct ivlist *l, struct pc_u128 x)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc_u128_cmp(l->v[mid].hi, x) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static enum rel dim_rel(const struct ivlist *l, const struct pc_rg_iv *b)
{
	size_t i = ivlist_find(l, b->lo);

	if (i == l->n || pc_u128_cmp(l->v[i].lo, b->hi) > 0)
		return REL_DISJOINT;
	if (pc_u128_cmp(l->v[i].lo, b->lo) <= 0 && pc_u128_cmp(l->v[i].hi, b->hi) >= 0)
		return REL_COVERS;
	return REL_PARTIAL;
}

/*
 * The dimensions in the order cube_rel() tries them: those that most often
 * tell a rule apart first (the answer does not depend on the order).
 */
static const int rel_order[__PC_RG_DIM_MAX] = {
	PC_RG_DPORT, PC_RG_SADDR, PC_RG_PROTO, PC_RG_DADDR, PC_RG_IFACE, PC_RG_STATE,
	PC_RG_OIFACE, PC_RG_SPORT, PC_RG_COND0, PC_RG_COND0 + 1, PC_RG_COND0 + 2, PC_RG_COND0 + 3,
	PC_RG_COND0 + 4, PC_RG_COND0 + 5, PC_RG_COND0 + 6, PC_RG_COND0 + 7,
};

_Static_assert(PC_RG_COND0 == 8 && __PC_RG_DIM_MAX == PC_RG_COND0 + PC_RG_COND_DIMS,
	       "rel_order lists every dimension, the conditions last");

static enum rel cube_rel(const struct cube *c, const struct pc_rg_box *b)
{
	enum rel all = REL_COVERS;

	for (int k = 0; k < c->ndims; k++) {
		int d = rel_order[k];
		enum rel r = dim_rel(&c->d[d], &b->d[d]);

		if (r == REL_DISJOINT)
			return REL_DISJOINT;
		if (r == REL_PARTIAL)
			all = REL_PARTIAL;
	}
	return all;
}

unsigned pc_rg_rest_rules = 16;

struct walk {
	enum pc_direction dir;
	unsigned fam;
	struct pc_rg_result *out;
	size_t cap;
	enum pc_rg_what what;
};

/* Same verdict and same translation. */
static bool same_meaning(const struct cube *a, const struct cube *b)
{
	return a->verdict == b->verdict && a->xlat == b->xlat;
}

/*
 * Keeps the cubes of @in that meet @b, up to and including the first that
 * covers it. Returns the count; *first_covers whether out[0] covers.
 */
static size_t filter(const struct cube *const *in, size_t n,
		     const struct pc_rg_box *b, const struct cube **out,
		     bool *first_covers)
{
	size_t k = 0;

	*first_covers = false;
	for (size_t i = 0; i < n; i++) {
		enum rel r = cube_rel(in[i], b);

		if (r == REL_DISJOINT)
			continue;
		if (k == 0)
			*first_covers = r == REL_COVERS;
		out[k++] = in[i];
		if (r == REL_COVERS)
			break;
	}
	return k;
}

/* Splits @b in two along a boundary of @c inside it, near the middle. */
static void split(const struct pc_rg_box *b, const struct cube *c,
		  struct pc_rg_box *left, struct pc_rg_box *right)
{
	for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
		const struct ivlist *l = &c->d[d];
		const struct pc_rg_iv *bd = &b->d[d];
		size_t first, last, nb;
		struct pc_u128 cut;

		if (dim_rel(l, bd) != REL_PARTIAL)
			continue;
		/* the intervals of @l meeting @bd: [first, last) */
		first = ivlist_find(l, bd->lo);
		last = ivlist_find(l, bd->hi);
		if (last < l->n && pc_u128_cmp(l->v[last].lo, bd->hi) <= 0)
			last++;
		/* boundaries strictly inside: each interval's start and end + 1 */
		nb = 2 * (last - first);
		for (size_t m = nb / 2;; m = (m + 1) % nb) {
			const struct pc_rg_iv *iv = &l->v[first + m / 2];

			if (m % 2 == 0)
				cut = iv->lo;
			else if (pc_u128_cmp(iv->hi, bd->hi) < 0)
				cut = u128_inc(iv->hi);
			else
				continue;
			if (pc_u128_cmp(cut, bd->lo) > 0 && pc_u128_cmp(cut, bd->hi) <= 0)
				break;
		}
		*left = *right = *b;
		left->d[d].hi = u128_dec(cut);
		right->d[d].lo = cut;
		return;
	}
	PC_BUG("split of a box no cube part covers");
}

static void emit(struct walk *w, const struct pc_rg_box *b,
		 const struct cube *o, const struct cube *n)
{
	struct pc_rg_diff *df;

	w->out->v = xgrow(w->out->v, &w->cap, w->out->n + 1, sizeof(w->out->v[0]));
	df = &w->out->v[w->out->n++];
	memset(df, 0, sizeof(*df));
	df->dir = w->dir;
	df->box = *b;
	/* a whole family's addresses print as any: one form for both families */
	for (int d = PC_RG_SADDR; d <= PC_RG_DADDR; d++) {
		struct pc_rg_iv full = pc_rg_full(d, w->fam);

		if (!pc_u128_cmp(b->d[d].lo, full.lo) && !pc_u128_cmp(b->d[d].hi, full.hi))
			df->box.d[d].hi = U128_MAX;
	}
	/* every port (type) of the protocols: one form, so that protocols merge */
	{
		uint64_t p0 = b->d[PC_RG_PROTO].lo.lo, p1 = b->d[PC_RG_PROTO].hi.lo;
		const struct pc_rg_iv *pt = &b->d[PC_RG_DPORT];
		bool ports = p0 == p1 && pc_proto_has_ports((unsigned)p0);
		bool types = p0 == p1 && (p0 == PC_PROTO_ICMP || p0 == PC_PROTO_ICMPV6);

		if (!ports && (!types || (pt->lo.lo == 0 && pt->hi.lo == 255)))
			df->box.d[PC_RG_DPORT] = pc_rg_full(PC_RG_DPORT, w->fam);
	}
	df->what = w->what;
	df->old.rule = o->rule;
	df->old.verdict = o->verdict;
	df->old.nat = o->nat;
	df->new.rule = n->rule;
	df->new.verdict = n->verdict;
	df->new.nat = n->nat;
	w->out->leaves++;
}

/*
 * Is some packet of @b in @target (NULL: anywhere) and in none of the rule
 * cubes of @in (defaults skipped)? Then *@witness is a box of such packets.
 */
static bool find_rest(const struct pc_rg_box *b, const struct cube *target,
		      const struct cube *const *in, size_t n, struct pc_rg_box *witness)
{
	const struct cube **f, *pick = NULL;
	enum rel rt = target ? cube_rel(target, b) : REL_COVERS;
	struct pc_rg_box left, right;
	size_t k = 0;
	bool found;

	if (rt == REL_DISJOINT)
		return false;
	f = xmalloc((n ? n : 1) * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		enum rel r;

		if (in[i]->deflt)
			continue;
		r = cube_rel(in[i], b);
		if (r == REL_COVERS) {
			free(f);
			return false;
		}
		if (r == REL_PARTIAL) {
			f[k++] = in[i];
			if (!pick)
				pick = in[i];
		}
	}
	if (rt == REL_PARTIAL)
		pick = target;
	if (!pick) {
		*witness = *b;
		free(f);
		return true;
	}
	split(b, pick, &left, &right);
	found = find_rest(&left, target, f, k, witness) ||
		find_rest(&right, target, f, k, witness);
	free(f);
	return found;
}

/*
 * The intervals of @c meeting @b in dimension @d: [*first, *last].
 */
static void clip_range(const struct cube *c, const struct pc_rg_box *b, int d,
		       size_t *first, size_t *last)
{
	const struct ivlist *l = &c->d[d];

	*first = ivlist_find(l, b->d[d].lo);
	*last = ivlist_find(l, b->d[d].hi);
	/* the last interval starting at or before the box's end */
	if (*last == l->n || pc_u128_cmp(l->v[*last].lo, b->d[d].hi) > 0)
		(*last)--;
}

/* Interval @i of @c in dimension @d clipped to @b. */
static struct pc_rg_iv clip(const struct cube *c, const struct pc_rg_box *b, int d, size_t i)
{
	struct pc_rg_iv iv = c->d[d].v[i];

	if (pc_u128_cmp(iv.lo, b->d[d].lo) < 0)
		iv.lo = b->d[d].lo;
	if (pc_u128_cmp(iv.hi, b->d[d].hi) > 0)
		iv.hi = b->d[d].hi;
	return iv;
}

/* The boxes of packets of @b in @c above which one box (their hull) bounds them all. */
#define BOUNDED_PIECES 64

/*
 * The region of @c's rule (a cube of @part, @n_earlier cubes before it)
 * in the box @h against @whole, when it has packets: bounded unless every
 * packet of @h is the rule's.
 */
static void emit_piece(struct walk *w, const struct pc_rg_box *h, const struct cube *c,
		       const struct cube *const *part, size_t n_earlier,
		       const struct cube *whole, bool part_is_old)
{
	struct pc_rg_box witness;
	struct pc_rg_diff *df;

	if (!find_rest(h, c, part, n_earlier, &witness))
		return;
	emit(w, h, part_is_old ? c : whole, part_is_old ? whole : c);
	df = &w->out->v[w->out->n - 1];
	if (memcmp(&witness, h, sizeof(*h)) != 0) {
		df->rest = part_is_old ? PC_RG_REST_OLD : PC_RG_REST_NEW;
		df->witness = witness;
	}
}

/*
 * @b is decided on the side of @part (the cubes meeting @b, in order) by
 * many rules, on the other side by the one cube @whole. Each cube of
 * @part whose verdict differs from @whole's gives regions: the packets of
 * its part of @b that its rule decides (its earlier cubes take the rest),
 * per box of that part (their hull when there are many), however many
 * pieces they would be as exact boxes. The cubes both sides share before
 * (@shared of them) match none of those packets, so @whole decides them.
 */
static void emit_bounded(struct walk *w, const struct pc_rg_box *b,
			 const struct cube *const *part, size_t n_part, size_t shared,
			 const struct cube *whole, bool part_is_old)
{
	for (size_t i = shared; i < n_part; i++) {
		const struct cube *c = part[i];
		size_t first[__PC_RG_DIM_MAX], last[__PC_RG_DIM_MAX], at[__PC_RG_DIM_MAX];
		size_t pieces = 1;
		struct pc_rg_box h = *b;

		/* the packets both defaults decide are one region already */
		if (same_meaning(c, whole) || (c->deflt && whole->deflt))
			continue;
		for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
			clip_range(c, b, d, &first[d], &last[d]);
			at[d] = first[d];
			if (pieces <= BOUNDED_PIECES)
				pieces *= last[d] - first[d] + 1;
		}
		if (pieces > BOUNDED_PIECES) {
			for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
				h.d[d].lo = clip(c, b, d, first[d]).lo;
				h.d[d].hi = clip(c, b, d, last[d]).hi;
			}
			emit_piece(w, &h, c, part, i, whole, part_is_old);
			continue;
		}
		/* every combination of the cube's intervals, as an odometer */
		for (;;) {
			int d;

			for (d = 0; d < __PC_RG_DIM_MAX; d++)
				h.d[d] = clip(c, b, d, at[d]);
			emit_piece(w, &h, c, part, i, whole, part_is_old);
			for (d = 0; d < __PC_RG_DIM_MAX && at[d] == last[d]; d++)
				at[d] = first[d];
			if (d == __PC_RG_DIM_MAX)
				break;
			at[d]++;
		}
	}
}

static void walk(struct walk *w, const struct pc_rg_box *b,
		 const struct cube *const *lo, size_t no,
		 const struct cube *const *ln, size_t nn)
{
	const struct cube **fo, **fn, *pick = NULL;
	bool co, cn, same_verdict = true;
	size_t ko, kn, d;
	struct pc_rg_box left, right;

	fo = xmalloc((no + nn) * sizeof(*fo));
	fn = fo + no;
	ko = filter(lo, no, b, fo, &co);
	kn = filter(ln, nn, b, fn, &cn);
	/* the same rules in the same order decide alike */
	for (d = 0; d < ko && d < kn; d++)
		if (!cube_same(fo[d], fn[d]))
			break;
	if (d == ko && d == kn)
		goto out;
	for (size_t i = 0; i < ko; i++)
		same_verdict &= same_meaning(fo[i], fo[0]);
	for (size_t i = 0; i < kn; i++)
		same_verdict &= same_meaning(fn[i], fo[0]);
	if (same_verdict)
		goto out;
	/*
	 * Past the shared rules, one side is decided by one cube and the
	 * other by many: those many rules would cut @b into many boxes; one
	 * bounded region per rule reads better and costs less. A few rules
	 * cut few boxes: those are exact and read best.
	 */
	/*
	 * Translations are always exact: the NAT rules are few, and a
	 * bounded region of "no translation" would not say which of the
	 * untranslated packets it means.
	 */
	if (w->what == PC_RG_VERDICT &&
	    ((d < kn && cube_rel(fn[d], b) == REL_COVERS && ko - d > pc_rg_rest_rules) ||
	     (d < ko && cube_rel(fo[d], b) == REL_COVERS && kn - d > pc_rg_rest_rules))) {
		/*
		 * A few shared rules first (connection tracking, loopback):
		 * without their packets the bounds are exact more often
		 */
		for (size_t i = 0; d <= pc_rg_rest_rules && i < d && !pick; i++)
			if (cube_rel(fo[i], b) == REL_PARTIAL)
				pick = fo[i];
		if (!pick) {
			if (d < kn && cube_rel(fn[d], b) == REL_COVERS)
				emit_bounded(w, b, fo, ko, d, fn[d], true);
			else
				emit_bounded(w, b, fn, kn, d, fo[d], false);
			goto out;
		}
	}
	if (!pick && co && cn) {
		/* both defaults: the rest region (pc_regions_compare()) holds it */
		if (!fo[0]->deflt || !fn[0]->deflt)
			emit(w, b, fo[0], fn[0]);
		goto out;
	}
	/* split on the first rule that differs, else on the shared rule before it */
	if (!pick && d < ko && cube_rel(fo[d], b) == REL_PARTIAL)
		pick = fo[d];
	else if (!pick && d < kn && cube_rel(fn[d], b) == REL_PARTIAL)
		pick = fn[d];
	for (size_t i = d; !pick && i-- > 0;)
		if (cube_rel(fo[i], b) == REL_PARTIAL)
			pick = fo[i];
	for (size_t i = 0; !pick && i < ko; i++)
		if (cube_rel(fo[i], b) == REL_PARTIAL)
			pick = fo[i];
	for (size_t i = 0; !pick && i < kn; i++)
		if (cube_rel(fn[i], b) == REL_PARTIAL)
			pick = fn[i];
	if (!pick)
		PC_BUG("undecided box without a partial rule");
	split(b, pick, &left, &right);
	walk(w, &left, fo, ko, fn, kn);
	walk(w, &right, fo, ko, fn, kn);
out:
	free(fo);
}

/* ---- NAT (issue 16): translations, and the verdict of translated packets ---- */

/*
 * Which NAT rule translates a packet, and into what, is first-match over
 * the NAT rules of one kind (core/ir/nat.c): dnat in prerouting on the
 * first packet of a connection coming in or forwarded, masquerade and
 * snat in postrouting on one leaving or forwarded. A translation is one
 * more "verdict" (struct cube, @xlat), so the walk that compares filter
 * chains compares NAT chains too.
 *
 * A dnat'ed packet is judged by the forward chain as its image: the
 * destination (and port) replaced by the target. The image of a box is a
 * box, so the packets of a dnat's cube whose image a forward cube matches
 * are a box too: the dnat's cube with the forward cube's other dimensions,
 * when the forward cube holds the target, else none. Those composed cubes,
 * per dnat in order, each with the forward chain in order, come before
 * the direction's own chain: first match over them is the meaning.
 */

/* Cubes that the compositions of one direction may make before compare gives up. */
#define COMPOSED_MAX 200000

/* Does @l hold @x? */
static bool ivlist_has(const struct ivlist *l, struct pc_u128 x)
{
	size_t i = ivlist_find(l, x);

	return i < l->n && pc_u128_cmp(l->v[i].lo, x) <= 0;
}

/* @a ∩ @b (both normalized) into @out; false when empty. */
static bool ivlist_meet(const struct ivlist *a, const struct ivlist *b, struct ivlist *out)
{
	size_t i = 0, j = 0, cap = 0;

	out->n = 0;
	out->v = NULL;
	while (i < a->n && j < b->n) {
		struct pc_rg_iv x = a->v[i], y = b->v[j];
		struct pc_u128 lo = pc_u128_cmp(x.lo, y.lo) > 0 ? x.lo : y.lo;
		struct pc_u128 hi = pc_u128_cmp(x.hi, y.hi) < 0 ? x.hi : y.hi;

		if (pc_u128_cmp(lo, hi) <= 0)
			ivlist_add(out, &cap, (struct pc_rg_iv){ lo, hi });
		if (pc_u128_cmp(x.hi, y.hi) < 0)
			i++;
		else
			j++;
	}
	return out->n > 0;
}

static void ivlist_copy(const struct ivlist *a, struct ivlist *out)
{
	out->n = a->n;
	out->v = xmalloc((a->n ? a->n : 1) * sizeof(a->v[0]));
	memcpy(out->v, a->v, a->n * sizeof(a->v[0]));
}

/*
 * What a NAT rule translates into: equal for equal translations. @port:
 * the dnat's new port, or 0 where it keeps the packet's (see nat_cubes()).
 */
static uint64_t nat_xlat(const struct pc_nat_rule *n, uint16_t port)
{
	uint64_t h = 0xcbf29ce484222325ull;

	hash_bytes(&h, &n->kind, sizeof(n->kind));
	if (n->kind != PC_NAT_MASQUERADE) {
		hash_bytes(&h, &n->to.family, sizeof(n->to.family));
		hash_bytes(&h, n->to.a, n->to.family == PC_FAM_IPV4 ? 4 : 16);
		hash_bytes(&h, &port, sizeof(port));
	}
	return h | 1;
}

static bool same_to(const struct pc_nat_rule *a, const struct pc_nat_rule *b)
{
	return a->to.family == b->to.family &&
	       memcmp(a->to.a, b->to.a, a->to.family == PC_FAM_IPV4 ? 4 : 16) == 0;
}

/*
 * The ports P of the dnats of @ir and @other to @n's address and a port:
 * at P, `-> X` (keeping the port) and `-> X:P` translate alike.
 */
static struct ivlist dnat_ports(const struct pc_ir *ir, const struct pc_ir *other,
				const struct pc_nat_rule *n)
{
	struct ivlist l = { 0, NULL };
	size_t cap = 0;

	for (int k = 0; k < 2; k++) {
		const struct pc_ir *x = k ? other : ir;

		for (size_t i = 0; x && i < x->n_nat; i++)
			if (x->nat[i].kind == PC_NAT_DNAT && x->nat[i].to_port &&
			    same_to(&x->nat[i], n))
				ivlist_add(&l, &cap, (struct pc_rg_iv){ u128(x->nat[i].to_port),
									u128(x->nat[i].to_port) });
	}
	ivlist_normalize(&l);
	return l;
}

/* The NAT rule's match as a filter rule's, for cube_of(); new packets only. */
static struct pc_rule nat_as_rule(const struct pc_nat_rule *n)
{
	struct pc_rule r = pc_nat_as_rule(n);

	r.ct_state = PC_CT_NEW;
	r.verdict = PC_VERDICT_ALLOW;
	return r;
}

/*
 * Pushes the cube @c of dnat @n, which keeps the port, as its pieces: at
 * each port of @ports (dnat_ports()) the translation of `-> X:P`, the rest
 * as it is. Frees @ports.
 */
static void push_kept_port(struct cubes *cs, struct cube *c, const struct pc_nat_rule *n,
			   struct ivlist ports, int ndims)
{
	struct ivlist rest, mid;

	for (size_t i = 0; i < ports.n; i++) {
		struct cube piece = *c;
		struct ivlist one = { 1, &ports.v[i] };

		if (!ivlist_meet(&c->d[PC_RG_DPORT], &one, &mid))
			continue;
		for (int d = 0; d < __PC_RG_DIM_MAX; d++)
			if (d != PC_RG_DPORT)
				ivlist_copy(&c->d[d], &piece.d[d]);
		piece.d[PC_RG_DPORT] = mid;
		piece.xlat = nat_xlat(n, (uint16_t)ports.v[i].lo.lo);
		cubes_push(cs, &piece, ndims);
	}
	/* the other ports: the packet's port kept */
	ivlist_copy(&ports, &rest);
	ivlist_complement(&rest, pc_rg_full(PC_RG_DPORT, PC_FAM_IPV4));
	if (ivlist_meet(&c->d[PC_RG_DPORT], &rest, &mid)) {
		free(c->d[PC_RG_DPORT].v);
		c->d[PC_RG_DPORT] = mid;
		cubes_push(cs, c, ndims);
	} else {
		free(mid.v);
		cube_free(c);
	}
	free(rest.v);
	free(ports.v);
}

static bool has_nat(const struct pc_ir *ir, bool dnat, unsigned fam)
{
	for (size_t i = 0; i < ir->n_nat; i++)
		if ((ir->nat[i].kind == PC_NAT_DNAT) == dnat && (ir->nat[i].families & fam))
			return true;
	return false;
}

/*
 * The cubes of the dnat rules (@dnat) or of the masquerade and snat rules
 * of @ir in family @fam, in order, appended to @cs. Postrouting's `on` is
 * the leaving interface: a forwarded packet's `out on` dimension.
 */
static void nat_cubes(const struct pc_ir *ir, const struct pc_ir *other, bool dnat,
		      enum pc_direction dir, unsigned fam, const struct pc_rg_result *res,
		      struct cubes *cs)
{
	int conds[PC_RG_COND_DIMS];
	int ndims = cond_ndims(res);

	for (int k = 0; k < PC_RG_COND_DIMS; k++)
		conds[k] = -1;
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		struct pc_rule r = nat_as_rule(n);
		size_t alts = n->n_l4 ? n->n_l4 : 1;

		if ((n->kind == PC_NAT_DNAT) != dnat || !(n->families & fam))
			continue;
		for (size_t k = 0; k < alts; k++) {
			struct cube c;

			if (!cube_of(&r, n->n_l4 ? &n->l4[k] : NULL, fam, &res->ifaces, conds, &c))
				continue;
			if (!dnat && dir == PC_DIR_FORWARD) {
				struct ivlist t = c.d[PC_RG_IFACE];

				c.d[PC_RG_IFACE] = c.d[PC_RG_OIFACE];
				c.d[PC_RG_OIFACE] = t;
			}
			c.rule = -1;
			c.nat = (long)i;
			c.xlat = nat_xlat(n, n->to_port);
			if (dnat && !n->to_port)
				push_kept_port(cs, &c, n, dnat_ports(ir, other, n), ndims);
			else
				cubes_push(cs, &c, ndims);
		}
	}
}

/*
 * Forward's limited rule @rule (of NEW or OLD) judges packets coming in
 * that a dnat forwards: there its limit counts as never exceeded, once
 * per rule for the note (limits_not_exceeded) whatever the families.
 */
static void count_after_dnat(struct pc_rg_result *res, bool is_new, long rule)
{
	for (size_t k = 0; k < res->n_conds; k++) {
		const struct pc_rg_cond *c = &res->conds[k];

		if (c->kind != PC_RG_COND_OVER || c->dir != PC_DIR_FORWARD ||
		    (is_new ? c->new_rule : c->old_rule) != rule)
			continue;
		/* the same bucket in OLD and NEW is one limit */
		if (!(res->over_after_dnat & (1ull << k))) {
			res->over_after_dnat |= 1ull << k;
			res->limits_not_exceeded[PC_DIR_IN]++;
		}
		return;
	}
}

/*
 * Appends to @cs, for each dnat cube of @dn in order, the packets of it
 * whose image the cubes of @g (forward's filter chain, @filter, or its
 * postrouting NAT rules), in order, match: first match over the result is
 * first match over @g of the translated packet. @dir is the direction of
 * the packets before the translation. Returns -1 with @err when compare
 * cannot model it.
 */
static int compose(const struct pc_ir *ir, bool is_new, const struct cubes *dn,
		   const struct cubes *g, enum pc_direction dir, bool filter,
		   struct pc_rg_result *res,
		   struct cubes *cs, const char *which, char *err, size_t errlen)
{
	const struct pc_chain *fw = &ir->chains[PC_DIR_FORWARD];
	size_t made = 0;
	int rc = 0;

	for (size_t i = 0; i < dn->n && rc == 0; i++) {
		const struct cube *nc = &dn->v[i];
		const struct pc_nat_rule *n;
		struct pc_u128 to;

		if (nc->deflt)
			continue;
		n = &ir->nat[nc->nat];
		to = prefix_iv(&n->to).lo;
		for (size_t j = 0; j < g->n; j++) {
			const struct cube *gc = &g->v[j];
			const struct pc_rule *fr = filter && !gc->deflt ? &fw->rules[gc->rule] : NULL;
			struct cube c;
			bool empty = false;

			if (!ivlist_has(&gc->d[PC_RG_DADDR], to) ||
			    (n->to_port && !ivlist_has(&gc->d[PC_RG_DPORT], u128(n->to_port))))
				continue;
			/*
			 * A condition is of the packet the filter sees: a
			 * forward rule's `to $set` holds when the translated
			 * destination is a member, as it does in the kernel
			 */
			memset(&c, 0, sizeof(c));
			for (int d = 0; d < __PC_RG_DIM_MAX && !empty; d++) {
				bool over = false;

				/* forward's rate limits are dimensions of forward only:
				 * for packets coming in they count as never exceeded */
				for (size_t k = 0; k < res->n_conds && dir != PC_DIR_FORWARD; k++)
					over |= res->conds[k].kind == PC_RG_COND_OVER &&
						res->conds[k].dim == d;
				if (d == PC_RG_DADDR || (d == PC_RG_DPORT && n->to_port) || over)
					ivlist_copy(&nc->d[d], &c.d[d]);
				else
					empty = !ivlist_meet(&nc->d[d], &gc->d[d], &c.d[d]);
			}
			if (empty) {
				cube_free(&c);
				continue;
			}
			if (fr && fr->limit.rate && dir != PC_DIR_FORWARD)
				count_after_dnat(res, is_new, gc->rule);
			c.verdict = gc->verdict;
			c.xlat = gc->xlat;
			if (filter) {
				c.rule = gc->rule;
				c.nat = nc->nat;
			} else {
				c.rule = -1;
				c.nat = gc->nat;
			}
			cubes_push(cs, &c, nc->ndims);
			if (++made > COMPOSED_MAX) {
				snprintf(err, errlen, "%s %s:%u: compare models at most %d pieces of "
					 "the packets dnat rules translate (the dnat rules times "
					 "the forward rules they can reach)",
					 which, n->loc.file ? n->loc.file : "?", n->loc.line,
					 COMPOSED_MAX);
				rc = -1;
				break;
			}
		}
	}
	return rc;
}

/*
 * The cubes deciding direction @dir of @ir (compared with @other) in
 * family @fam, in order, as
 * @what: the filter's verdict (after any dnat; with @first rules of the
 * chain before the dnats, for expect), or the translation of the dnat or
 * of the snat rules.
 */
static int meaning_cubes(const struct pc_ir *ir, const struct pc_ir *other,
			 enum pc_direction dir, bool is_new,
			 unsigned fam, enum pc_rg_what what, size_t first,
			 struct pc_rg_result *res, struct cubes *cs, char *err, size_t errlen)
{
	const char *which = is_new ? "NEW" : "OLD";
	bool arrives = dir == PC_DIR_IN || dir == PC_DIR_FORWARD;
	bool dnat = arrives && has_nat(ir, true, fam);
	int ndims = cond_ndims(res);
	int rc = 0;

	memset(cs, 0, sizeof(*cs));
	if (what == PC_RG_DNAT) {
		if (dnat)
			nat_cubes(ir, other, true, dir, fam, res, cs);
		push_default(cs, PC_VERDICT_ALLOW, fam, ndims);
		return 0;
	}
	if (what == PC_RG_VERDICT)
		chain_cubes(&ir->chains[dir], dir, is_new, fam, res, 0, first, cs);
	if (dnat) {
		struct cubes dn = { 0 }, g = { 0 };

		nat_cubes(ir, other, true, dir, fam, res, &dn);
		if (what == PC_RG_VERDICT) {
			chain_cubes(&ir->chains[PC_DIR_FORWARD], PC_DIR_FORWARD, is_new, fam, res,
				    0, SIZE_MAX, &g);
			push_default(&g, ir->chains[PC_DIR_FORWARD].policy, fam, ndims);
		} else {
			nat_cubes(ir, other, false, PC_DIR_FORWARD, fam, res, &g);
			push_default(&g, PC_VERDICT_ALLOW, fam, ndims);
		}
		rc = compose(ir, is_new, &dn, &g, dir, what == PC_RG_VERDICT, res, cs, which,
			     err, errlen);
		cubes_free(&dn);
		cubes_free(&g);
	}
	if (what == PC_RG_VERDICT) {
		chain_cubes(&ir->chains[dir], dir, is_new, fam, res, first, SIZE_MAX, cs);
		push_default(cs, ir->chains[dir].policy, fam, ndims);
	} else {
		/* packets coming in leave by postrouting only when a dnat forwards them */
		if (dir != PC_DIR_IN)
			nat_cubes(ir, other, false, dir, fam, res, cs);
		push_default(cs, PC_VERDICT_ALLOW, fam, ndims);
	}
	return rc;
}

/* ---- interface classes ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ifaces_collect(const struct pc_ir *ir, char ***v, size_t *n, size_t *cap)
{
	for (int d = 0; d < __PC_DIR_MAX; d++)
		for (size_t i = 0; i < ir->chains[d].n; i++) {
			const struct pc_rule *r = &ir->chains[d].rules[i];
			size_t m = r->n_ifaces > 1 ? r->n_ifaces : 1;

			/* `out on` names make classes of the same kind */
			for (size_t k = 0; k < r->n_oifaces; k++) {
				*v = xgrow(*v, cap, *n + 1, sizeof(**v));
				(*v)[(*n)++] = xstrdup(r->oifaces[k]);
			}
			if (!r->iface)
				continue;
			/* every name of a list makes its classes */
			for (size_t k = 0; k < m; k++) {
				*v = xgrow(*v, cap, *n + 1, sizeof(**v));
				(*v)[(*n)++] = xstrdup(r->n_ifaces > 1 ? r->ifaces[k] : r->iface);
			}
		}
	/* the NAT rules' `on` too (issue 16) */
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *nr = &ir->nat[i];
		size_t m = nr->n_ifaces > 1 ? nr->n_ifaces : 1;

		for (size_t k = 0; nr->iface && k < m; k++) {
			*v = xgrow(*v, cap, *n + 1, sizeof(**v));
			(*v)[(*n)++] = xstrdup(nr->n_ifaces > 1 ? nr->ifaces[k] : nr->iface);
		}
	}
}

static void ifaces_build(const struct pc_ir *a, const struct pc_ir *b,
			 struct pc_rg_ifaces *ifs)
{
	char **v = NULL;
	size_t n = 0, cap = 0, k = 0;

	ifaces_collect(a, &v, &n, &cap);
	ifaces_collect(b, &v, &n, &cap);
	if (n)
		qsort(v, n, sizeof(v[0]), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(v[k - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	/* lo first, so that "every interface but lo" is one interval */
	for (size_t i = 0; i < k; i++)
		if (strcmp(v[i], "lo") == 0) {
			char *lo = v[i];

			memmove(v + 1, v, i * sizeof(v[0]));
			v[0] = lo;
			break;
		}
	ifs->n = k;
	ifs->names = v;
	ifs->wild = xcalloc(k ? k : 1, sizeof(bool));
	for (size_t i = 0; i < k; i++) {
		size_t len = strlen(v[i]);

		if (len && v[i][len - 1] == '*') {
			ifs->wild[i] = true;
			v[i][len - 1] = 0;
		}
	}
}

const char *pc_rg_iface_example(const struct pc_rg_ifaces *ifs, size_t cls,
				char *buf, size_t len)
{
	if (cls >= ifs->n) {
		/* a usual name no pattern claims */
		static const char *const usual[] = { "eth0", "ens3", "wlan0", "eno1" };

		for (size_t u = 0; u < sizeof(usual) / sizeof(usual[0]); u++) {
			bool taken = false;

			for (size_t i = 0; i < ifs->n; i++)
				if (ifs->wild[i] ? str_starts(usual[u], ifs->names[i])
						 : strcmp(usual[u], ifs->names[i]) == 0)
					taken = true;
			if (!taken) {
				snprintf(buf, len, "%s", usual[u]);
				return buf;
			}
		}
		snprintf(buf, len, "pcother0");
		return buf;
	}
	if (!ifs->wild[cls])
		return ifs->names[cls];
	/* a name under the prefix that no exact name or longer prefix claims */
	for (unsigned k = 0; k < 1000; k++) {
		bool taken = false;

		snprintf(buf, len, "%s~%u", ifs->names[cls], k);
		for (size_t i = 0; i < ifs->n; i++)
			if (i != cls && (ifs->wild[i] ? str_starts(buf, ifs->names[i]) &&
					 strlen(ifs->names[i]) > strlen(ifs->names[cls])
					 : strcmp(buf, ifs->names[i]) == 0))
				taken = true;
		if (!taken)
			return buf;
	}
	return buf;
}

/* ---- the comparison ---- */

static int check_modelled(const struct pc_ir *ir, const char *which,
			  char *err, size_t errlen)
{
	/* NAT is modelled (meaning_cubes()), but not over dynamic sets */
	for (size_t i = 0; i < ir->n_nat; i++)
		if (pc_addr_set_is_dynamic(&ir->nat[i].saddr) ||
		    pc_addr_set_is_dynamic(&ir->nat[i].daddr)) {
			snprintf(err, errlen, "%s %s:%u: compare does not model a dynamic set in a NAT rule yet",
				 which, ir->nat[i].loc.file ? ir->nat[i].loc.file : "?",
				 ir->nat[i].loc.line);
			return -1;
		}
	for (int d = 0; d < __PC_DIR_MAX; d++)
		for (size_t i = 0; i < ir->chains[d].n; i++) {
			const struct pc_rule *r = &ir->chains[d].rules[i];
			const char *f = pc_regions_unmodelled(r);

			if (f) {
				snprintf(err, errlen, "%s %s:%u: compare does not model %s yet",
					 which, r->loc.file ? r->loc.file : "?", r->loc.line, f);
				return -1;
			}
		}
	return 0;
}

/* The protocol ranges of a root box, each with one meaning of PC_RG_DPORT. */
static void proto_segments(unsigned fam, struct pc_rg_iv *seg, struct pc_u128 *port_hi,
			   size_t *n)
{
	static const unsigned special[] = { 1, 6, 17, 33, 58, 132 };
	unsigned next = 0;

	(void)fam;
	*n = 0;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		unsigned p = special[i];

		if (p > next) {
			seg[*n] = (struct pc_rg_iv){ u128(next), u128(p - 1) };
			port_hi[(*n)++] = u128(0);
		}
		seg[*n] = (struct pc_rg_iv){ u128(p), u128(p) };
		port_hi[(*n)++] = u128(pc_proto_has_ports(p) ? 65535 : 255);
		next = p + 1;
	}
	seg[*n] = (struct pc_rg_iv){ u128(next), u128(255) };
	port_hi[(*n)++] = u128(0);
}

/*
 * Walks one direction and family of @what over every protocol segment;
 * for the filter, with the region of the packets both defaults decide.
 */
static int compare_one(const struct pc_ir *old, const struct pc_ir *new, int dir,
		       unsigned fam, enum pc_rg_what what, size_t new_first,
		       struct pc_rg_result *out, char *err, size_t errlen)
{
	struct cubes co = { 0 }, cn = { 0 };
	const struct cube **lo = NULL, **ln = NULL;
	struct pc_rg_iv seg[16];
	struct pc_u128 port_hi[16];
	size_t nseg;
	struct walk w = { (enum pc_direction)dir, fam, out, 0, what };
	bool rest = what != PC_RG_VERDICT;
	int rc = -1;

	if (meaning_cubes(old, new, dir, false, fam, what, 0, out, &co, err, errlen) < 0 ||
	    meaning_cubes(new, old, dir, true, fam, what, new_first, out, &cn, err, errlen) < 0)
		goto out;
	lo = xmalloc(co.n * sizeof(*lo));
	ln = xmalloc(cn.n * sizeof(*ln));
	for (size_t i = 0; i < co.n; i++)
		lo[i] = &co.v[i];
	for (size_t i = 0; i < cn.n; i++)
		ln[i] = &cn.v[i];
	w.cap = out->n;
	proto_segments(fam, seg, port_hi, &nseg);
	for (size_t s = 0; s < nseg; s++) {
		struct pc_rg_box b;

		/* its padding too: emit_piece() compares boxes as bytes */
		memset(&b, 0, sizeof(b));
		b.fam = fam;
		for (int d = 0; d < __PC_RG_DIM_MAX; d++)
			b.d[d] = pc_rg_full(d, fam);
		b.d[PC_RG_IFACE].hi = u128(out->ifaces.n);
		b.d[PC_RG_OIFACE].hi = u128(out->ifaces.n);
		b.d[PC_RG_PROTO] = seg[s];
		b.d[PC_RG_DPORT].hi = port_hi[s];
		walk(&w, &b, lo, co.n, ln, cn.n);
		if (!rest && old->chains[dir].policy != new->chains[dir].policy) {
			const struct cube **all = xmalloc((co.n + cn.n) * sizeof(*all));
			struct pc_rg_box witness;

			memcpy(all, lo, co.n * sizeof(*all));
			memcpy(all + co.n, ln, cn.n * sizeof(*all));
			/*
			 * The packets both defaults decide: one region
			 * of the family, found in this segment or not
			 */
			if (find_rest(&b, NULL, all, co.n + cn.n, &witness)) {
				b.d[PC_RG_PROTO] = pc_rg_full(PC_RG_PROTO, fam);
				b.d[PC_RG_DPORT] = pc_rg_full(PC_RG_DPORT, fam);
				emit(&w, &b, &co.v[co.n - 1], &cn.v[cn.n - 1]);
				out->v[out->n - 1].rest = PC_RG_REST_OLD | PC_RG_REST_NEW;
				out->v[out->n - 1].witness = witness;
				rest = true;
			}
			free(all);
		}
	}
	rc = 0;
out:
	free(lo);
	free(ln);
	cubes_free(&co);
	cubes_free(&cn);
	return rc;
}

int pc_regions_compare_at(const struct pc_ir *old, const struct pc_ir *new,
			  enum pc_direction first_dir, size_t new_first,
			  struct pc_rg_result *out, char *err, size_t errlen)
{
	static const unsigned fams[] = { PC_FAM_IPV4, PC_FAM_IPV6 };

	memset(out, 0, sizeof(*out));
	if (check_modelled(old, "OLD", err, errlen) < 0 ||
	    check_modelled(new, "NEW", err, errlen) < 0)
		return -1;
	ifaces_build(old, new, &out->ifaces);
	if (conds_build(old, new, out, err, errlen) < 0)
		return -1;
	for (int dir = 0; dir < __PC_DIR_MAX; dir++)
		for (size_t f = 0; f < 2; f++) {
			unsigned fam = fams[f];
			bool arrives = dir == PC_DIR_IN || dir == PC_DIR_FORWARD;
			bool dnat = arrives && (has_nat(old, true, fam) || has_nat(new, true, fam));
			bool snat = has_nat(old, false, fam) || has_nat(new, false, fam);

			if (compare_one(old, new, dir, fam, PC_RG_VERDICT,
					dir == (int)first_dir ? new_first : 0, out, err, errlen) < 0 ||
			    (dnat && compare_one(old, new, dir, fam, PC_RG_DNAT, 0, out,
						 err, errlen) < 0) ||
			    (snat && (dir != PC_DIR_IN || dnat) &&
			     compare_one(old, new, dir, fam, PC_RG_SNAT, 0, out, err, errlen) < 0)) {
				pc_rg_result_free(out);
				return -1;
			}
		}
	pc_rg_merge_all(out);
	return 0;
}

int pc_regions_compare(const struct pc_ir *old, const struct pc_ir *new,
		       struct pc_rg_result *out, char *err, size_t errlen)
{
	return pc_regions_compare_at(old, new, PC_DIR_IN, 0, out, err, errlen);
}

void pc_rg_result_free(struct pc_rg_result *r)
{
	for (size_t i = 0; i < r->ifaces.n; i++)
		free(r->ifaces.names[i]);
	free(r->ifaces.names);
	free(r->ifaces.wild);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
