/* SPDX-License-Identifier: MIT */
/*
 * Hand-built IRs for the nft backend and netlink tests: they do not need
 * the policy parser, and cover every construct the lowering handles.
 */
#ifndef PORTCULLIS_TESTS_SAMPLE_IR_H
#define PORTCULLIS_TESTS_SAMPLE_IR_H

#include <portcullis/ir.h>

/*
 * A policy using every feature: built-in rules, a named group with IPv4
 * and IPv6, port sets and ranges, ICMP types, reject of TCP and UDP and
 * of any protocol, log with and without prefix, limits, an interface,
 * a bare protocol, mergeable prefixes. @table names the table.
 * The IR lives in static storage (do not pc_ir_destroy() it); each call
 * rebuilds it.
 */
struct pc_ir *pc_sample_ir_full(const char *table);

/*
 * A small policy: input default @deny ? deny : allow, conntrack, allow
 * tcp @port in, and @n_extra more rules allowing tcp ports 10000.. each
 * from its own /32 of 198.51.100.0/24 and 203.0.113.0/24 (for volume).
 * Heap allocated: free with pc_sample_ir_free().
 */
struct pc_ir *pc_sample_ir_small(const char *table, unsigned port, size_t n_extra);
void pc_sample_ir_free(struct pc_ir *ir);

#endif
