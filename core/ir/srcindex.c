/* SPDX-License-Identifier: MIT */
/* The fold's index of entries by source prefix (srcindex.h has the why). */
#include <stdlib.h>
#include <string.h>

#include "ir/srcindex.h"
#include "ir/addrset.h"
#include "common/util.h"

#define NONE UINT32_MAX

static int fam_slot(uint8_t family)
{
	return family == PC_FAM_IPV6;
}

static struct pc_src_key key_of(const struct pc_addr *a)
{
	struct pc_src_key k;

	k.hi = pc_be64_load(a->a);
	k.lo = pc_be64_load(a->a + 8);
	k.family = a->family;
	k.plen = a->plen;
	return k;
}

/* @k cut to its first @plen bits. */
static struct pc_src_key key_up(struct pc_src_key k, unsigned plen)
{
	k.plen = (uint8_t)plen;
	if (plen < 64) {
		k.hi = plen ? k.hi & ~0ull << (64 - plen) : 0;
		k.lo = 0;
	} else if (plen < 128) {
		k.lo = plen > 64 ? k.lo & ~0ull << (128 - plen) : 0;
	}
	return k;
}

/* Prefixes by family, address, length. */
static int key_cmp(const struct pc_src_key *a, const struct pc_src_key *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (int)a->plen - (int)b->plen;
}

static bool key_eq(const struct pc_src_key *a, const struct pc_src_key *b)
{
	return a->hi == b->hi && a->lo == b->lo && a->plen == b->plen && a->family == b->family;
}

/* The slots are taken from the low bits: every bit of the key must reach
 * them (an IPv4 address is in the top bits of @hi), hence the final mix
 * (the constants of MurmurHash3's 64-bit finaliser). */
static size_t key_hash(const struct pc_src_key *k)
{
	uint64_t h = k->hi ^ (k->lo * 0x9e3779b97f4a7c15u) ^ ((uint64_t)k->family << 8 | k->plen);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return (size_t)h;
}

/* The slot of @k's group, or the empty slot where it would go. */
static size_t slot_of(const struct pc_src_index *ix, const struct pc_src_key *k)
{
	size_t mask = ix->n_slot - 1, i = key_hash(k) & mask;

	while (ix->slot[i] && !key_eq(&ix->g[ix->slot[i] - 1].k, k))
		i = (i + 1) & mask;
	return i;
}

/* The group of prefix @k, or NONE. */
static uint32_t group_find(const struct pc_src_index *ix, const struct pc_src_key *k)
{
	size_t i;

	if (!ix->n_slot)
		return NONE;
	i = slot_of(ix, k);
	return ix->slot[i] ? ix->slot[i] - 1 : NONE;
}

/* The first place in the sorted groups whose prefix is not before @k. */
static size_t sorted_find(const struct pc_src_index *ix, const struct pc_src_key *k)
{
	size_t lo = 0, hi = ix->n_g;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&ix->g[ix->sorted[mid]].k, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void rehash(struct pc_src_index *ix)
{
	free(ix->slot);
	ix->n_slot = ix->n_slot ? 2 * ix->n_slot : 64;
	ix->slot = xcalloc(ix->n_slot, sizeof(*ix->slot));
	for (size_t g = 0; g < ix->n_g; g++)
		ix->slot[slot_of(ix, &ix->g[g].k)] = (uint32_t)g + 1;
}

static uint32_t group_new(struct pc_src_index *ix, const struct pc_src_key *k)
{
	uint32_t g = (uint32_t)ix->n_g;
	size_t at = sorted_find(ix, k);

	ix->g = xgrow(ix->g, &ix->cap_g, ix->n_g + 1, sizeof(*ix->g));
	ix->g[g].k = *k;
	ix->g[g].v = NULL;
	ix->g[g].n = ix->g[g].cap = 0;
	ix->sorted = xgrow(ix->sorted, &ix->cap_sorted, ix->n_g + 1, sizeof(*ix->sorted));
	memmove(&ix->sorted[at + 1], &ix->sorted[at], (ix->n_g - at) * sizeof(*ix->sorted));
	ix->sorted[at] = g;
	ix->n_g++;
	/* at most half full */
	if (2 * ix->n_g > ix->n_slot)
		rehash(ix);
	else
		ix->slot[slot_of(ix, k)] = g + 1;
	ix->plens[fam_slot(k->family)][k->plen / 64] |= 1ull << k->plen % 64;
	return g;
}

void pc_src_index_add(struct pc_src_index *ix, const struct pc_addr *src,
		      struct pc_src_span span, uint32_t id)
{
	struct pc_src_key k = key_of(src);
	uint32_t g = group_find(ix, &k);
	struct pc_src_group *grp;

	if (g == NONE)
		g = group_new(ix, &k);
	grp = &ix->g[g];
	grp->v = xgrow(grp->v, &grp->cap, grp->n + 1, sizeof(*grp->v));
	grp->v[grp->n++] = (struct pc_src_entry){ span, id };
}

/* The entries of group @g whose span meets @span. */
static void group_each(const struct pc_src_index *ix, uint32_t g, struct pc_src_span span,
		       void (*fn)(void *arg, uint32_t id), void *arg)
{
	const struct pc_src_group *grp = &ix->g[g];

	for (size_t i = 0; i < grp->n; i++)
		if (grp->v[i].span.lo <= span.hi && span.lo <= grp->v[i].span.hi)
			fn(arg, grp->v[i].id);
}

void pc_src_index_query(const struct pc_src_index *ix, const struct pc_addr *q,
			struct pc_src_span span,
			void (*fn)(void *arg, uint32_t id), void *arg)
{
	const uint64_t *plens = ix->plens[fam_slot(q->family)];
	struct pc_src_key k, last;

	if (!ix->n_g)
		return;
	k = key_of(q);
	/* (a) the prefixes in @q: from @q on, while the address is in it */
	last = k;
	if (k.plen < 64) {
		last.hi |= k.plen ? ~0ull >> k.plen : ~0ull;
		last.lo = ~0ull;
	} else if (k.plen < 128) {
		last.lo |= k.plen > 64 ? ~0ull >> (k.plen - 64) : ~0ull;
	}
	for (size_t i = sorted_find(ix, &k); i < ix->n_g; i++) {
		const struct pc_src_key *a = &ix->g[ix->sorted[i]].k;

		if (a->family != k.family || a->hi > last.hi ||
		    (a->hi == last.hi && a->lo > last.lo))
			break;
		group_each(ix, ix->sorted[i], span, fn, arg);
	}
	/* (b) the prefixes that contain @q: one per shorter length present */
	for (unsigned word = 0; word * 64 < k.plen; word++) {
		uint64_t lens = plens[word];

		if (k.plen - word * 64 < 64)
			lens &= (1ull << (k.plen - word * 64)) - 1;
		while (lens) {
			struct pc_src_key up = key_up(k, word * 64 + (unsigned)__builtin_ctzll(lens));
			uint32_t g = group_find(ix, &up);

			lens &= lens - 1;
			if (g != NONE)
				group_each(ix, g, span, fn, arg);
		}
	}
}

void pc_src_index_finish(struct pc_src_index *ix)
{
	for (size_t g = 0; g < ix->n_g; g++)
		free(ix->g[g].v);
	free(ix->g);
	free(ix->sorted);
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}
