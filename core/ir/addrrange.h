/* SPDX-License-Identifier: MIT */
/*
 * Address ranges (192.0.2.10-192.0.2.20) as the prefixes that cover them
 * exactly: the IR holds prefixes only, so a range is its minimal prefix
 * cover and every backend and the evaluator see nothing new.
 */
#ifndef PORTCULLIS_ADDRRANGE_H
#define PORTCULLIS_ADDRRANGE_H

#include <stdbool.h>
#include <stddef.h>

#include <portcullis/ir.h>

/*
 * Calls @emit(@ctx, prefix) for each prefix of the minimal cover of the
 * inclusive range @lo..@hi (same family, plen ignored, @lo <= @hi), in
 * ascending order. At most 2 x the address width prefixes.
 */
void pc_addr_range_cover(const struct pc_addr *lo, const struct pc_addr *hi,
			 void (*emit)(void *ctx, const struct pc_addr *a), void *ctx);

/*
 * Parses "ADDR-ADDR" (one family, first <= last). Returns false with a
 * message in @err when @text is a range but a bad one; *is_range tells
 * whether @text had the shape of a range at all (a '-' between two
 * addresses).
 */
bool pc_addr_range_parse(const char *text, struct pc_addr *lo, struct pc_addr *hi,
			 bool *is_range, char *err, size_t errlen);

#endif
