/* SPDX-License-Identifier: MIT */
/**
 * DOC: regions of packet space (`portcullis compare`)
 *
 * Packet space is, per direction, a product of interval dimensions: the
 * interface and (forward) the leaving interface (as classes, below), the
 * conntrack state, the source and the destination address, the protocol
 * and the destination port (the ICMP type for ICMP and ICMPv6), and what
 * the packet does not tell (dynamic set membership, over a rate: struct
 * pc_rg_cond), each family apart. A rule of the IR is a
 * union of "cubes", one per protocol alternative: in each dimension a set
 * of intervals. pc_regions_compare() splits the space of two IRs into
 * boxes until, in each box, both first-match chains are decided by one
 * rule each; the boxes where the two verdicts differ are the difference in
 * meaning, exactly (no sampling). Boxes where the two chains hold the same
 * rules in the same order are never split: a one-line change costs about
 * the rules its box touches. The two defaults count as the same rule, so
 * that the packets both decide are one region when they differ; and where
 * one side is decided by one rule and the other by many, each of those
 * many gives one region bounded by a box (struct pc_rg_diff, @rest)
 * instead of the thousands of boxes the many would cut.
 *
 * A new match of the IR is one more enum pc_rg_dim value, its interval in
 * cube_of() and its text in the printer; until then pc_regions_compare()
 * refuses a rule using it (pc_regions_unmodelled()).
 *
 * NAT (issue 16): the first-match NAT rules are compared as chains whose
 * "verdict" is the translation (struct pc_rg_diff @what PC_RG_DNAT,
 * PC_RG_SNAT), and the filter's verdict of a packet a dnat translates is
 * that of forward's rules on its image (regions.c, compose()).
 *
 * Interfaces: every name and prefix (eth*) either policy writes is a class;
 * a prefix's class holds the names starting with it that no exact name or
 * longer prefix claims; the last class is every other name. Rate limits
 * are conditions (below), as are dynamic sets.
 */
#ifndef PORTCULLIS_REGIONS_H
#define PORTCULLIS_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/ir.h>

/* The dimensions of a box. */
enum pc_rg_dim {
	PC_RG_IFACE,   /* interface class index (struct pc_rg_ifaces) */
	PC_RG_OIFACE,  /* forward: the leaving interface's class (`out on`); else unused */
	PC_RG_STATE,   /* conntrack state: 0 new, 1 established, 2 related, 3 invalid */
	PC_RG_SADDR,   /* source address as a number (IPv4 in the low 32 bits) */
	PC_RG_DADDR,
	PC_RG_PROTO,   /* IANA protocol number */
	PC_RG_DPORT,   /* destination port; ICMP type for ICMP/ICMPv6; 0 otherwise */
	PC_RG_SPORT,   /* source port (issue 14); all of 0-65535 and no
			* meaning for protocols without ports, so that their
			* regions merge as before */
	PC_RG_COND0,   /* 0 or 1: whether a condition (struct pc_rg_cond) holds */
	PC_RG_COND7 = PC_RG_COND0 + 7,
	__PC_RG_DIM_MAX
};

/* An unsigned 128-bit number, so that every dimension has one type. */
struct pc_u128 {
	uint64_t hi, lo;
};

/* An inclusive interval. */
struct pc_rg_iv {
	struct pc_u128 lo, hi;
};

/*
 * A box: @fam a PC_FAM_* mask (both when the region is the same in both
 * families, its addresses then "any"). An address interval covering its
 * whole family is stored as [0, 2^128-1].
 */
struct pc_rg_box {
	unsigned fam;
	struct pc_rg_iv d[__PC_RG_DIM_MAX];
};

/*
 * What decided a box in one IR. For a verdict (PC_RG_VERDICT): @rule the
 * index in the chain, -1 the default; when @nat >= 0 the packet was first
 * translated by the dnat ir->nat[@nat] and @rule is then a rule of the
 * forward chain (-1 its default), which judges the translated packet. For
 * a translation (PC_RG_DNAT, PC_RG_SNAT): @nat the NAT rule that
 * translates, -1 none; @rule is -1 and @verdict means nothing.
 */
struct pc_rg_side {
	long rule;
	enum pc_verdict verdict;
	long nat;
};

/* What a region's two IRs do differently. */
enum pc_rg_what {
	PC_RG_VERDICT,   /* the filter's verdict (of the translated packet after a dnat) */
	PC_RG_DNAT,      /* the destination translation (prerouting) */
	PC_RG_SNAT,      /* the source translation, masquerade or snat (postrouting) */
};

/* Which side's decider decides only part of a region's box (@rest). */
enum {
	PC_RG_REST_OLD = 1,
	PC_RG_REST_NEW = 2,
};

/*
 * One region whose meaning differs: the packets of @box that @old.rule
 * decides in OLD and @new.rule in NEW. With @rest 0 that is every packet
 * of @box. Otherwise @box only bounds the region: with PC_RG_REST_OLD,
 * OLD's decider decides some of its packets only (earlier rules, or with
 * the default every rule, take the others), e.g. "tcp any -> any where no
 * OLD rule matches"; PC_RG_REST_NEW likewise. @witness is then a box of
 * packets inside the region (one family). A region with both sides -1 is
 * the packets no rule matches, when the defaults differ.
 */
struct pc_rg_diff {
	enum pc_direction dir;
	enum pc_rg_what what;
	struct pc_rg_box box;
	struct pc_rg_side old, new;
	unsigned rest;
	struct pc_rg_box witness;
};

/*
 * What the packet alone does not tell: whether its source (destination)
 * is in a dynamic set, whose elements only the kernel knows, or whether
 * it comes over the rate of a `limit`. Each is a dimension of two values,
 * so that a change that matters only for members (or over the rate) says
 * so. A limit is one bucket per rule: the same rule (same matches, same
 * limit, same direction, the same how-many-th such rule) in OLD and NEW
 * is the same bucket; a changed limit is another bucket. A direction with
 * more limits than PC_RG_COND_DIMS (less the sets) counts all its limits
 * as never exceeded, as the reference evaluator does, and says so
 * (limits_not_exceeded).
 */
enum pc_rg_cond_kind {
	PC_RG_COND_SRC_IN,    /* the source is in dynamic set @set */
	PC_RG_COND_DST_IN,    /* the destination is */
	PC_RG_COND_OVER,      /* over the rate of the limited rule @old_rule / @new_rule */
};

/* Condition dimensions per direction; conditions in all (a limit is in one). */
#define PC_RG_COND_DIMS 8
#define PC_RG_MAX_CONDS 64   /* at most 64: over_after_dnat is a bit each */

/*
 * @dim: its dimension (PC_RG_COND0 + k); a set's in every direction, a
 * limit's in its direction only, where no other condition has it.
 */
struct pc_rg_cond {
	enum pc_rg_cond_kind kind;
	const char *set;              /* dynamic set name (in an IR) */
	enum pc_direction dir;        /* PC_RG_COND_OVER: the rule's chain */
	long old_rule, new_rule;      /* PC_RG_COND_OVER: its index in each, -1 if none */
	uint64_t key;
	int dim;
};

/* Whether condition @c is a dimension of direction @dir. */
static inline bool pc_rg_cond_in(const struct pc_rg_cond *c, enum pc_direction dir)
{
	return c->dim >= 0 && (c->kind != PC_RG_COND_OVER || c->dir == dir);
}

/* Interface classes: @names[i] (a prefix when @wild[i]); class @n is "any other". */
struct pc_rg_ifaces {
	size_t n;
	char **names;
	bool *wild;
};

struct pc_rg_result {
	size_t n;
	struct pc_rg_diff *v;
	struct pc_rg_ifaces ifaces;
	size_t n_conds;
	struct pc_rg_cond conds[PC_RG_MAX_CONDS];
	/*
	 * Per direction: limited rules that all count as never exceeded (as
	 * explain takes them) because more than the dimensions left use one
	 */
	size_t limits_not_exceeded[__PC_DIR_MAX];
	/* issue 16: the conditions (bits) of forward's limits counted in
	 * limits_not_exceeded[PC_DIR_IN] for the packets a dnat forwards */
	uint64_t over_after_dnat;
	size_t leaves;    /* boxes decided before merging (for the curious) */
};

/*
 * A feature of @r compare does not model (its name), or NULL. Every field a
 * later change adds to struct pc_rule that changes what a rule matches or
 * does must be refused here until cube_of() models it.
 */
const char *pc_regions_unmodelled(const struct pc_rule *r);

/*
 * Computes every region where @old and @new (unoptimised IRs) decide
 * differently. Returns 0, or -1 with @err naming the unmodelled feature
 * and its rule's location. Free @out with pc_rg_result_free().
 */
int pc_regions_compare(const struct pc_ir *old, const struct pc_ir *new,
		       struct pc_rg_result *out, char *err, size_t errlen);
/*
 * Same, but in direction @first_dir the first @new_first rules of @new's
 * chain come before its dnat rules (expect: the expectation speaks of the
 * packets as they arrive, before any translation).
 */
int pc_regions_compare_at(const struct pc_ir *old, const struct pc_ir *new,
			  enum pc_direction first_dir, size_t new_first,
			  struct pc_rg_result *out, char *err, size_t errlen);
void pc_rg_result_free(struct pc_rg_result *r);

/*
 * The rules of one side meeting a box above which the packets its default
 * decides there are one region bounded by the box (@rest) rather than its
 * pieces: a few rules cut few pieces, and those read better. Tests lower it.
 */
extern unsigned pc_rg_rest_rules;

/* The full interval of @dim for one family (PC_RG_DPORT: 0-65535). */
struct pc_rg_iv pc_rg_full(enum pc_rg_dim dim, unsigned fam);

/* The interface class name a packet would carry (for tests): NULL for none. */
const char *pc_rg_iface_example(const struct pc_rg_ifaces *ifs, size_t cls,
				char *buf, size_t len);

/* Text of one interval of an address dimension: any, ADDR, ADDR/PLEN or A-B. */
void pc_rg_addr_text(const struct pc_rg_iv *iv, unsigned fam, char *buf,
		     size_t len);
/* u128 helpers */
int pc_u128_cmp(struct pc_u128 a, struct pc_u128 b);

#endif
