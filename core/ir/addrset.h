/* SPDX-License-Identifier: MIT */
/*
 * Address, prefix and port-set algebra: what the resolver, the lint, the
 * optimiser and the evaluator share about addresses and port sets.
 */
#ifndef PORTCULLIS_ADDRSET_H
#define PORTCULLIS_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <portcullis/ir.h>

/* Bytes @p[0..7] as a number, the first byte highest: 16 address bytes
 * compare as two of them, without a memcmp() call (the lint and the
 * optimiser compare addresses some million times on a 2,000-rule policy). */
static inline uint64_t pc_be64_load(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Sorts and merges a port set in place. */
void pc_port_set_normalize(struct pc_port_set *s);
/**
 * pc_addr_sort() - sorts prefixes: by family, address bytes, prefix length
 * @v: prefixes, sorted in place
 * @n: number of prefixes
 */
void pc_addr_sort(struct pc_addr *v, size_t n);
/* Sorts a prefix set and drops prefixes contained in others, in place. */
void pc_addr_set_normalize(struct pc_addr_set *s);
/* Clears the host bits of @a (the bits past its prefix length). */
void pc_prefix_mask(struct pc_addr *a);
/* True when prefix @outer contains prefix @inner (same family). */
bool pc_prefix_contains(const struct pc_addr *outer, const struct pc_addr *inner);
/* Parses "192.0.2.0", "2001:db8::" with optional @plen_text; reports on @diag. */
bool pc_addr_parse(const char *text, const char *plen_text, struct pc_addr *out,
		   char *err, size_t errlen);

/**
 * pc_addr_contains() - is an address inside a prefix
 * @pfx:    prefix
 * @family: family of @addr (PC_FAM_IPV4 / PC_FAM_IPV6)
 * @addr:   address, network byte order (4 or 16 bytes)
 */
bool pc_addr_contains(const struct pc_addr *pfx, unsigned family,
		      const uint8_t *addr);

/**
 * pc_addr_set_contains() - is an address in a set (an empty set is "any")
 * @s:      set, in the order ir.h documents (IPv4 first, each family sorted)
 * @family: family of @addr
 * @addr:   address, network byte order
 */
bool pc_addr_set_contains(const struct pc_addr_set *s, unsigned family,
			  const uint8_t *addr);

/**
 * pc_port_set_contains() - is a port in a set (an empty set is "any")
 * @s:    sorted, disjoint intervals
 * @port: port
 */
bool pc_port_set_contains(const struct pc_port_set *s, uint16_t port);

#endif
