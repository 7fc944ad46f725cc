/* SPDX-License-Identifier: MIT */
/*
 * What regions.c (the arithmetic and the comparison) and regions_merge.c
 * (merging and printing the result) share: 128-bit number helpers and the
 * merge. Internal to core/ir/.
 */
#ifndef PORTCULLIS_REGIONS_INTERNAL_H
#define PORTCULLIS_REGIONS_INTERNAL_H

#include <stdint.h>

#include "ir/regions.h"

static inline struct pc_u128 u128(uint64_t v)
{
	return (struct pc_u128){ 0, v };
}

static inline struct pc_u128 u128_inc(struct pc_u128 a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

static inline struct pc_u128 u128_dec(struct pc_u128 a)
{
	if (a.lo-- == 0)
		a.hi--;
	return a;
}

static const struct pc_u128 U128_MAX = { UINT64_MAX, UINT64_MAX };

/*
 * Merges the boxes of @r that touch and differ in nothing else, until
 * nothing merges; then sorts them for output.
 */
void pc_rg_merge_all(struct pc_rg_result *r);

#endif
