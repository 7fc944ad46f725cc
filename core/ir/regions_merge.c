/* SPDX-License-Identifier: MIT */
/* The result of pc_regions_compare(): merging its boxes, and their text (regions.h). */
#include "ir/regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>

#include "ir/regions_internal.h"

/* ---- merging ---- */

static bool side_eq(const struct pc_rg_side *a, const struct pc_rg_side *b)
{
	return a->rule == b->rule && a->verdict == b->verdict && a->nat == b->nat;
}

static int iv_cmp2(const struct pc_rg_iv *a, const struct pc_rg_iv *b)
{
	int c = pc_u128_cmp(a->lo, b->lo);

	return c ? c : pc_u128_cmp(a->hi, b->hi);
}

/* The dimension merge_pass() sorts last (and ignores for equality); __PC_RG_DIM_MAX: the family. */
static int merge_dim;

static int long_cmp(long a, long b)
{
	return a < b ? -1 : a > b;
}

/* Order by direction, deciders, family, every dimension but merge_dim, then merge_dim. */
static int merge_cmp(const void *pa, const void *pb)
{
	const struct pc_rg_diff *a = pa, *b = pb;
	int c;

	if ((c = long_cmp(a->dir, b->dir)) || (c = long_cmp(a->what, b->what)) ||
	    (c = long_cmp(a->new.nat, b->new.nat)) || (c = long_cmp(a->old.nat, b->old.nat)) ||
	    (c = long_cmp(a->new.rule, b->new.rule)) ||
	    (c = long_cmp(a->old.rule, b->old.rule)) ||
	    (c = long_cmp(a->new.verdict, b->new.verdict)) ||
	    (c = long_cmp(a->old.verdict, b->old.verdict)))
		return c;
	if (merge_dim != __PC_RG_DIM_MAX && (c = long_cmp(a->box.fam, b->box.fam)))
		return c;
	for (int d = 0; d < __PC_RG_DIM_MAX; d++)
		if (d != merge_dim && (c = iv_cmp2(&a->box.d[d], &b->box.d[d])))
			return c;
	if (merge_dim != __PC_RG_DIM_MAX)
		return iv_cmp2(&a->box.d[merge_dim], &b->box.d[merge_dim]);
	return long_cmp(a->box.fam, b->box.fam);
}

/* Same but for merge_dim (and the family when merging in another dimension). */
static bool same_but(const struct pc_rg_diff *a, const struct pc_rg_diff *b)
{
	if (a->dir != b->dir || a->what != b->what || !side_eq(&a->old, &b->old) ||
	    !side_eq(&a->new, &b->new))
		return false;
	if (merge_dim != __PC_RG_DIM_MAX && a->box.fam != b->box.fam)
		return false;
	for (int d = 0; d < __PC_RG_DIM_MAX; d++)
		if (d != merge_dim && iv_cmp2(&a->box.d[d], &b->box.d[d]))
			return false;
	return true;
}

/*
 * The region of @a and @b (same deciders) is the union of their boxes with
 * the same condition on who decides (regions.h): a bound if either is.
 */
static void merge_rest(struct pc_rg_diff *a, const struct pc_rg_diff *b)
{
	if (b->rest && !a->rest)
		a->witness = b->witness;
	a->rest |= b->rest;
}

/*
 * One sweep along merge_dim: boxes equal elsewhere that touch become one.
 * Sorting first makes the neighbours consecutive: n log n per sweep.
 */
static bool merge_pass(struct pc_rg_result *r)
{
	bool changed = false;
	size_t k = 0;

	if (r->n < 2)
		return false;
	qsort(r->v, r->n, sizeof(r->v[0]), merge_cmp);
	for (size_t i = 1; i < r->n; i++) {
		struct pc_rg_diff *a = &r->v[k];
		const struct pc_rg_diff *b = &r->v[i];

		if (same_but(a, b)) {
			if (merge_dim == __PC_RG_DIM_MAX) {
				merge_rest(a, b);
				a->box.fam |= b->box.fam;
				changed = true;
				continue;
			}
			struct pc_rg_iv *x = &a->box.d[merge_dim];
			const struct pc_rg_iv *y = &b->box.d[merge_dim];

			if (pc_u128_cmp(x->hi, U128_MAX) && !pc_u128_cmp(u128_inc(x->hi), y->lo)) {
				merge_rest(a, b);
				x->hi = y->hi;
				/* every IPv4 address again: the form both families share */
				if ((merge_dim == PC_RG_SADDR || merge_dim == PC_RG_DADDR) &&
				    a->box.fam == PC_FAM_IPV4 && !pc_u128_cmp(x->lo, u128(0)) &&
				    !pc_u128_cmp(x->hi, u128(UINT32_MAX)))
					x->hi = U128_MAX;
				changed = true;
				continue;
			}
		}
		r->v[++k] = *b;
	}
	r->n = k + 1;
	return changed;
}

static int diff_cmp(const void *pa, const void *pb)
{
	const struct pc_rg_diff *a = pa, *b = pb;

	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->what != b->what)
		return a->what < b->what ? -1 : 1;
	if (a->new.nat != b->new.nat)
		return a->new.nat < b->new.nat ? -1 : 1;
	if (a->old.nat != b->old.nat)
		return a->old.nat < b->old.nat ? -1 : 1;
	if (a->new.rule != b->new.rule)
		return a->new.rule < b->new.rule ? -1 : 1;
	if (a->old.rule != b->old.rule)
		return a->old.rule < b->old.rule ? -1 : 1;
	if (a->box.fam != b->box.fam)
		return a->box.fam < b->box.fam ? -1 : 1;
	for (int d = 0; d < __PC_RG_DIM_MAX; d++) {
		int c = iv_cmp2(&a->box.d[d], &b->box.d[d]);

		if (c)
			return c;
	}
	return 0;
}

/*
 * Merges boxes along each dimension in turn, then across families, until
 * nothing merges; then sorts for output.
 */
void pc_rg_merge_all(struct pc_rg_result *r)
{
	bool changed = true;

	while (changed) {
		changed = false;
		/* within a family first, the family last */
		for (int d = __PC_RG_DIM_MAX - 1; d >= 0; d--) {
			merge_dim = d;
			changed |= merge_pass(r);
		}
		merge_dim = __PC_RG_DIM_MAX;
		changed |= merge_pass(r);
	}
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(r->v[0]), diff_cmp);
}

/* ---- text ---- */

/* The low @h bits set. */
static struct pc_u128 low_mask(unsigned h)
{
	struct pc_u128 m = { 0, 0 };

	if (h >= 128)
		return U128_MAX;
	if (h >= 64) {
		m.lo = UINT64_MAX;
		m.hi = h == 64 ? 0 : (1ull << (h - 64)) - 1;
	} else {
		m.lo = h == 0 ? 0 : (1ull << h) - 1;
	}
	return m;
}

void pc_rg_addr_text(const struct pc_rg_iv *iv, unsigned fam, char *buf,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	uint8_t lo[16], hi[16];
	unsigned bits = fam == PC_FAM_IPV4 ? 32 : 128;

	if (!pc_u128_cmp(iv->hi, U128_MAX) && !pc_u128_cmp(iv->lo, u128(0))) {
		snprintf(buf, len, "any");
		return;
	}
	for (int i = 0; i < 16; i++) {
		uint64_t wl = i < 8 ? iv->lo.hi : iv->lo.lo, wh = i < 8 ? iv->hi.hi : iv->hi.lo;
		unsigned shift = 56 - 8 * (unsigned)(i % 8);

		lo[i] = (uint8_t)(wl >> shift);
		hi[i] = (uint8_t)(wh >> shift);
	}
	if (fam == PC_FAM_IPV4) {
		inet_ntop(AF_INET, lo + 12, a, sizeof(a));
		inet_ntop(AF_INET, hi + 12, b, sizeof(b));
	} else {
		inet_ntop(AF_INET6, lo, a, sizeof(a));
		inet_ntop(AF_INET6, hi, b, sizeof(b));
	}
	/* the longest run of host bits that makes lo..hi one prefix */
	for (unsigned h = bits;; h--) {
		struct pc_u128 m = low_mask(h);

		if ((iv->lo.lo & m.lo) == 0 && (iv->lo.hi & m.hi) == 0 &&
		    iv->hi.lo == (iv->lo.lo | m.lo) && iv->hi.hi == (iv->lo.hi | m.hi)) {
			if (h == 0)
				snprintf(buf, len, "%s", a);
			else
				snprintf(buf, len, "%s/%u", a, bits - h);
			return;
		}
		if (h == 0)
			break;
	}
	snprintf(buf, len, "%s-%s", a, b);
}
