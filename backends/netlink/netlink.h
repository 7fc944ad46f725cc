/* SPDX-License-Identifier: MIT */
/**
 * DOC: programming nf_tables over netlink (libnftnl + libmnl)
 *
 * A &struct pc_nl_objs holds the nftnl objects of one `table inet NAME`:
 * built from the lowered plan (what the nft text backend prints, so that
 * `apply` and `nft -f` install the same kernel state), or read back from the
 * kernel (for `diff`, and to save the state `apply --confirm` rolls back
 * to).
 *
 * A &struct pc_nl_batch is one nfnetlink transaction replacing that table:
 * add the table (so that the delete cannot fail), delete it, add it again
 * with its sets, verdict maps, chains and rules. The kernel applies all of
 * it or nothing. A verdict map of the plan (&struct pc_nft_map) goes in as
 * nft sends `map NAME { type ipv4_addr . inet_proto . inet_service :
 * verdict; flags interval; }`: flags map, interval and concat, nft's
 * concatenated key type, each key field padded to 4 bytes, the field
 * lengths, nft's set user data, one element per interval with a start and
 * an end key, its verdict and its comment; the rule loads the three fields
 * into consecutive registers and looks them up with the verdict register
 * as destination.
 * Without its commit (BATCH_END) the kernel validates every message and
 * then aborts, which is `--dry-run` (`nft -c` does the same).
 */
#ifndef PORTCULLIS_NETLINK_H
#define PORTCULLIS_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <portcullis/diag.h>

#include "backends/nft/nft_lower.h"

struct pc_nl_objs;
struct pc_nl_batch;

/*
 * The comment portcullis gives the tables it creates (`apply`, and the nft
 * backend's `table inet NAME { comment "..." }`): a table of that name
 * without it belongs to another tool, and `apply` leaves it alone unless
 * told otherwise.
 */
#define PC_NL_OWNER_COMMENT "managed by portcullis"

enum pc_nl_owner {
	PC_NL_TABLE_NONE,    /* no such table */
	PC_NL_TABLE_OURS,    /* it carries PC_NL_OWNER_COMMENT */
	PC_NL_TABLE_FOREIGN, /* another tool's (or a hand-made) table */
};

/**
 * pc_nl_table_owner() - whose is `table inet @table`
 * @owner: set to what the kernel has
 *
 * Return: 0, or a negative errno.
 */
int pc_nl_table_owner(const char *table, enum pc_nl_owner *owner);

/* The same of a table read with pc_nl_objs_read() (NULL: none). */
enum pc_nl_owner pc_nl_objs_owner(const struct pc_nl_objs *o);

/*
 * True when a table read back belongs to a process (NFT_TABLE_F_OWNER):
 * the kernel lets no other process replace it, nor rebuild it.
 */
bool pc_nl_objs_process_owned(const struct pc_nl_objs *o);

/**
 * pc_nl_objs_from_plan() - the nftnl objects a plan installs
 * @plan: lowered policy; must outlive the result (locations point into it)
 */
struct pc_nl_objs *pc_nl_objs_from_plan(const struct pc_nft_plan *plan);

/**
 * pc_nl_objs_read() - read `table inet @table` back from the kernel
 * @table: table name
 * @out:   set to the objects, or to NULL when the table does not exist
 *
 * Return: 0, or a negative errno (-EPERM without CAP_NET_ADMIN).
 */
int pc_nl_objs_read(const char *table, struct pc_nl_objs **out);

/**
 * pc_nl_objs_read_for() - read the table of @plan as a re-apply needs it
 *
 * As pc_nl_objs_read(), without the elements of the sets whose elements a
 * re-apply (pc_nl_batch_update()) would not use: sets the plan does not
 * have (they go), dynamic and per-source limit sets (kept or made anew by
 * their declaration), and interval sets of which the plan has more than
 * NL_READ_ELEMS_MAX elements (made anew: the kernel lists an interval set
 * restarting its walk every 32 KiB, in time that grows with the square of
 * its size, longer than it takes to build it). Not for a rollback, nor a
 * diff.
 */
int pc_nl_objs_read_for(const struct pc_nft_plan *plan, struct pc_nl_objs **out);

/* Frees objects. NULL is a no-op. */
void pc_nl_objs_destroy(struct pc_nl_objs *o);

/* Number of rules held. */
size_t pc_nl_objs_rule_count(const struct pc_nl_objs *o);

/**
 * pc_nl_batch_create() - a transaction replacing a table
 * @table:  the table's name
 * @o:      its new contents, or NULL to leave no table at all
 * @commit: false: end without the commit (validate only)
 *
 * The batch is serialised at once: @o may be freed afterwards.
 */
struct pc_nl_batch *pc_nl_batch_create(const char *table, struct pc_nl_objs *o,
				       bool commit);

/**
 * pc_nl_batch_from_plan() - the transaction `apply` sends for a plan
 * @plan:   lowered policy; must outlive the batch (error locations)
 * @commit: false: end without the commit (validate only)
 *
 * pc_nl_batch_create() of pc_nl_objs_from_plan(): one encoder, through
 * libnftnl's objects, for apply, diff and the rollback alike.
 */
struct pc_nl_batch *pc_nl_batch_from_plan(const struct pc_nft_plan *plan, bool commit);

/**
 * pc_nl_batch_update() - the transaction `apply` sends over a table read back
 * @plan:   lowered policy; must outlive the batch (error locations)
 * @live:   the table as pc_nl_objs_read() found it just before, or NULL
 * @commit: false: end without the commit (validate only)
 *
 * When @live is ours (the owner comment, no flags) this sends only what
 * differs from it (issue 15): chains with the same rules and sets with
 * the same elements stay as they are, counters included; changed chains
 * are flushed and filled, changed sets refilled or replaced; the result
 * equals pc_nl_batch_from_plan()'s. The batch carries the generation
 * @live was read at: if the ruleset changed since, the kernel refuses it
 * and pc_nl_batch_send() returns -ERESTART. Otherwise (no table, another
 * tool's, a dormant one) it is pc_nl_batch_from_plan().
 */
struct pc_nl_batch *pc_nl_batch_update(const struct pc_nft_plan *plan,
				       const struct pc_nl_objs *live, bool commit);

/* Frees a batch. NULL is a no-op. */
void pc_nl_batch_destroy(struct pc_nl_batch *b);

/* Size in bytes of the serialised batch. */
size_t pc_nl_batch_size(const struct pc_nl_batch *b);

/* The serialised batch (netlink messages, one after the other). */
const void *pc_nl_batch_data(const struct pc_nl_batch *b, size_t *len);

/**
 * pc_nl_batch_report() - report a kernel error answer as send would
 * @err_msg: an NLMSG_ERROR message about one message of @b (by its
 *           sequence number)
 *
 * The error goes to @diag at the policy location of the message it is
 * about: a rule's line, a map's rule, the first rule using a group's
 * named set. For tests of that mapping without a kernel.
 */
void pc_nl_batch_report(const struct pc_nl_batch *b, const void *err_msg,
			struct pc_diag *diag);

/**
 * pc_nl_batch_send() - send a batch and collect the kernel's answer
 * @b:    batch
 * @diag: a message the kernel refused is reported here at the policy line
 *        it came from, with the kernel's extended ack text when there is one
 *
 * Return: 0 when the kernel accepted every message (and, with a commit,
 * committed), 1 when it refused the batch (nothing changed; reported on
 * @diag), or a negative errno for a system error (-EPERM: no permission;
 * -ERESTART: a pc_nl_batch_update() batch whose table changed since it
 * was read; nothing is reported on @diag).
 */
int pc_nl_batch_send(struct pc_nl_batch *b, struct pc_diag *diag);

/**
 * pc_nl_diff() - compare a live table with what a policy would install
 * @want:  objects from pc_nl_objs_from_plan()
 * @live:  objects from pc_nl_objs_read(), NULL when the table is missing
 * @table: the table's name (for messages)
 * @out:   a readable report of the differences goes here
 *
 * Both sides go through the same canonical printer (expressions as
 * libnftnl prints them, anonymous sets by their elements, rule comments,
 * map elements as "ADDR . PROTO . PORTS : VERDICT comment ..."), so a
 * table loaded by `nft -f` of the nft backend's output compares equal.
 * The table's flags and comment are compared too, and named objects and
 * flowtables are reported by type and name.
 *
 * Return: true when they are the same.
 */
bool pc_nl_diff(const struct pc_nl_objs *want, const struct pc_nl_objs *live,
		const char *table, FILE *out);

/* ---- sets (issue 14): elements of dynamic sets (nl_set.c) ---------- */

/* One address for pc_nl_set_change(): the set it goes to, its bytes. */
struct pc_nl_set_elem {
	const char *set;
	uint8_t key[16];
	uint32_t len;        /* 4 or 16 */
};

/*
 * Adds (@add) or deletes the addresses @v in their sets of `table inet
 * @table`, in one transaction; @timeout_ms (adding only, 0: the set's
 * default) how long they stay. Return: 0, or a negative errno (ENOENT:
 * no such table or set, EEXIST / ENOENT for an element present / absent).
 */
int pc_nl_set_change(const char *table, bool add, const struct pc_nl_set_elem *v,
		     size_t n, uint64_t timeout_ms);

/*
 * Prints the elements of the sets @sets of `table inet @table` to @out, one
 * address a line with its remaining time; *found: how many of the sets
 * exist. Return: 0, or a negative errno (ENOENT: no such table).
 */
int pc_nl_set_list(const char *table, const char *const *sets, size_t n_sets,
		   FILE *out, size_t *found);

/* ---- counters (issue 14): what the counters counted (nl_stats.c) ---- */

/**
 * struct pc_nl_count - the counters of every rule and element with one comment
 * @where:   the comment ("FILE:LINE[ TEXT]", or a built-in's origin)
 * @packets: summed over them
 * @bytes:   summed over them
 * @holders: how many rules and elements counted
 */
struct pc_nl_count {
	char *where;
	uint64_t packets, bytes;
	size_t holders;
};

/*
 * Reads `table inet @table` and sums the counters of its rules and set
 * and map elements by their comments, in the order first seen. *out is
 * freed with pc_nl_counts_free(). Return: 0, or a negative errno
 * (ENOENT: no such table).
 */
int pc_nl_counters_read(const char *table, struct pc_nl_count **out, size_t *n);
void pc_nl_counts_free(struct pc_nl_count *v, size_t n);

#endif
