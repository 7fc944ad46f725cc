/* SPDX-License-Identifier: MIT */
/**
 * DOC: the ruleset compiler
 *
 * pc_ir_optimize() rewrites an IR in place so that runs of plain policy
 * rules become verdict maps (&struct pc_map_elem), keeping the meaning
 * exactly: for every packet, pc_ir_eval() gives the same verdict before and
 * after (tests/unit/test_optimize.c checks it on random policies and
 * packets, interval edges included). Only backends with PC_CAP_VMAP are
 * handed an optimised IR; `--no-optimize` keeps one rule per policy line.
 */
#ifndef PORTCULLIS_OPTIMIZE_H
#define PORTCULLIS_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/ir.h>

struct pc_optimize_stats {
	size_t rules_before;   /* rules in all chains before */
	size_t rules_after;    /* and after */
	size_t folded_rules;   /* policy rules that went into maps */
	size_t maps;           /* verdict-map rules made */
	size_t elements;       /* their elements */
	/* Dispatch (issue 15) */
	size_t dispatches;        /* dispatch rules made */
	size_t dispatched_rules;  /* policy rules in their regions */
	size_t classes;           /* class chains */
	size_t class_rules;       /* rules in the class chains, after folding */
	size_t longest_class;     /* the most rules in one class chain */
	size_t dispatch_elements; /* elements of the dispatches */
};

/* Optimises @ir in place (new arrays live in the IR's arena). @st may be NULL. */
void pc_ir_optimize(struct pc_ir *ir, struct pc_optimize_stats *st);

/*
 * An optimised view of @ir, which stays as it was: the new chain arrays and
 * maps belong to the view, everything else is shared with @ir, which must
 * outlive it. Free it with pc_ir_destroy() (before @ir).
 */
struct pc_ir *pc_ir_optimize_view(const struct pc_ir *ir, struct pc_optimize_stats *st);
/* Same; without @daddr, rules with destinations stay out of the maps (a
 * backend without PC_CAP_VMAP_DADDR). */
struct pc_ir *pc_ir_optimize_view_for(const struct pc_ir *ir, bool daddr,
				      struct pc_optimize_stats *st);

/*
 * Dispatch (issue 15): the same, with regions of rules over port
 * protocols replaced by a dispatch on (protocol, destination port) to
 * class chains (optimize_dispatch.c); for a backend with PC_CAP_DISPATCH.
 */
void pc_ir_optimize_dispatch(struct pc_ir *ir, struct pc_optimize_stats *st);
struct pc_ir *pc_ir_optimize_view_opts(const struct pc_ir *ir, bool daddr, bool dispatch,
				       struct pc_optimize_stats *st);

/*
 * Map keys over interfaces (issue 15): which fields a map's key may hold
 * besides source, protocol and port, by what the backend can express.
 */
enum {
	PC_OPT_KEY_DADDR = 1u << 0,   /* the destination: PC_CAP_VMAP_DADDR */
	PC_OPT_KEY_IFACE = 1u << 1,   /* the interface: PC_CAP_VMAP_IFACE */
	PC_OPT_KEY_ICMP = 1u << 2,    /* ICMP types: PC_CAP_VMAP_ICMP */
	/* not a key: elements that log or reject (PC_CAP_VMAP_ACTION) */
	PC_OPT_KEY_ACTION = 1u << 3,
	PC_OPT_KEYS_ALL = PC_OPT_KEY_DADDR | PC_OPT_KEY_IFACE | PC_OPT_KEY_ICMP |
			  PC_OPT_KEY_ACTION,
};

/* The PC_OPT_KEY_* a backend with @caps (PC_CAP_*) can take. */
unsigned pc_optimize_keys(uint32_t caps);

/* An optimised view whose maps' keys hold at most @keys (PC_OPT_KEY_*). */
struct pc_ir *pc_ir_optimize_view_keys(const struct pc_ir *ir, unsigned keys, bool dispatch,
				       struct pc_optimize_stats *st);
/*
 * pc_ir_optimize_view_keys() whose maps and class chains are in a spooled
 * arena (pc_arena_create_spool()): for a writer that reads them once, in
 * order, and tells the arena (pc_arena_release() on pc_ir_arena()), so that
 * the elements of a big policy are not all in memory at once (issue 15).
 */
struct pc_ir *pc_ir_optimize_view_spool(const struct pc_ir *ir, unsigned keys, bool dispatch,
					struct pc_optimize_stats *st);

/*
 * Do @a and @b provably match no packet in common (optimize_reorder.c)?
 * False when it cannot tell.
 */
bool pc_rules_disjoint(const struct pc_rule *a, const struct pc_rule *b);

#endif
