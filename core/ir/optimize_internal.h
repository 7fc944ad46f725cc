/* SPDX-License-Identifier: MIT */
/* Between the parts of the compiler (optimize*.c); not for backends. */
#ifndef PORTCULLIS_OPTIMIZE_INTERNAL_H
#define PORTCULLIS_OPTIMIZE_INTERNAL_H

#include <stdbool.h>

#include <portcullis/ir.h>

#include "ir/optimize.h"
#include "common/util.h"

/* The shortest run folded into a map outside class chains (optimize.c). */
#define PC_OPT_MIN_RUN 8

/* Can @r be in a verdict map whose key holds at most @keys (optimize.c)?
 * A rule that cannot stays one rule of the folded chain. */
bool pc_optimize_foldable(const struct pc_rule *r, unsigned keys);

/* Folds the runs of @c into verdict maps (optimize.c). */
void pc_optimize_chain(struct pc_arena *arena, struct pc_chain *c, bool daddr,
		       struct pc_optimize_stats *st);

/* The same, folding runs from @min_run rules on. */
void pc_optimize_chain_runs(struct pc_arena *arena, struct pc_chain *c, bool daddr,
			    size_t min_run, struct pc_optimize_stats *st);

/* The same, with map keys of at most @keys (PC_OPT_KEY_*). */
void pc_optimize_chain_keys(struct pc_arena *arena, struct pc_chain *c, unsigned keys,
			    size_t min_run, struct pc_optimize_stats *st);

/* Replaces the regions of @c by dispatches whose classes are folded
 * (optimize_dispatch.c). */
void pc_optimize_dispatch_chain(struct pc_arena *arena, struct pc_chain *c, unsigned keys,
				struct pc_optimize_stats *st);

#endif
