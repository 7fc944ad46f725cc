/* SPDX-License-Identifier: MIT */
/*
 * An index of numbered entries by source prefix, for the fold's box
 * cutting (optimize.c): which entries' prefixes overlap a given one.
 *
 * Two prefixes of one family overlap exactly when one contains the other
 * (they agree on the bits of the shorter). So the entries overlapping a
 * query prefix Q are (a) those whose prefix lies in Q: a stretch of the
 * distinct prefixes sorted by (address, length), from Q itself to Q's
 * last address; and (b) those whose prefix strictly contains Q: for each
 * shorter length the index holds, the one prefix of that length that
 * contains Q, found by hashing Q masked to it. Entries of one prefix are
 * kept in the order they were added.
 *
 * Before, every entry had a place in one array sorted by prefix, found by
 * a binary search per length in (b) and moved by a memmove() per entry
 * added: a fifth of the optimiser's instructions on the Capirca shape.
 */
#ifndef PORTCULLIS_SRCINDEX_H
#define PORTCULLIS_SRCINDEX_H

#include <stddef.h>
#include <stdint.h>

#include <portcullis/ir.h>

/* A prefix as two numbers, the address's first and last 8 bytes in
 * order, host bits clear. */
struct pc_src_key {
	uint64_t hi, lo;
	uint8_t family, plen;
};

/*
 * An entry's second dimension: an interval of 64-bit numbers (the fold
 * gives the first 8 bytes of the box's destination range). A query reports
 * only the entries whose interval meets its own: in the class chains of the
 * Capirca shape the entries of a source are mostly of other destinations,
 * and reading each box to find that out was a tenth of generate's
 * instructions (issue 15: 65.7 M of 77.8 M candidates at 100,000 terms
 * missed on the destination alone).
 */
struct pc_src_span {
	uint64_t lo, hi;
};

struct pc_src_entry {
	struct pc_src_span span;
	uint32_t id;
};

struct pc_src_group {
	struct pc_src_key k;
	/* its entries in the order they were added, side by side: a query
	 * reads them in a row (a chain through a per-id array took a cache
	 * miss per entry, tens of millions at 100,000 terms) */
	struct pc_src_entry *v;
	size_t n, cap;
};

struct pc_src_index {
	struct pc_src_group *g;   /* in the order they were made */
	size_t n_g, cap_g;
	uint32_t *sorted;         /* group numbers by family, address, length */
	size_t cap_sorted;
	uint32_t *slot;           /* hash table: group number + 1, 0 is empty */
	size_t n_slot;            /* a power of two, or 0 */
	/* per family (IPv4, IPv6), the prefix lengths present, as bits */
	uint64_t plens[2][3];
};

/*
 * An index starts zeroed (embedded, no init) and owns its arrays until
 * pc_src_index_finish(). Adds entry @id (each id once, below UINT32_MAX;
 * the fold adds 0, 1, 2, ...) with source @src (host bits clear; copied).
 */
void pc_src_index_add(struct pc_src_index *ix, const struct pc_addr *src,
		      struct pc_src_span span, uint32_t id);

/* Calls @fn(@arg, id) for every entry whose prefix overlaps @q and whose
 * span meets @span: each once, in no particular order. */
void pc_src_index_query(const struct pc_src_index *ix, const struct pc_addr *q,
			struct pc_src_span span,
			void (*fn)(void *arg, uint32_t id), void *arg);

/* Frees what @ix owns and zeroes it: it can be used again. */
void pc_src_index_finish(struct pc_src_index *ix);

#endif
