/* SPDX-License-Identifier: MIT */
/* Names of protocols and ICMP types, shared by the resolver and the backends. */
#ifndef PORTCULLIS_NAMES_H
#define PORTCULLIS_NAMES_H

#include <stdbool.h>

/* "tcp", "esp", "123" -> protocol number, -1 if unknown. */
int pc_proto_parse(const char *s);

/*
 * ICMP (@v6 false) or ICMPv6 type names as nftables spells them
 * ("echo-request", "nd-neighbor-solicit"); -1 if unknown. Numbers 0-255
 * are accepted too.
 */
int pc_icmp_type_parse(const char *s, bool v6);
/* The name of a type, or NULL if it has none. */
const char *pc_icmp_type_name(unsigned type, bool v6);
/* Closest known type name (for "did you mean"), or NULL. */
const char *pc_icmp_type_suggest(const char *s, bool v6);

/*
 * An IPv4 (@v6 false, 4 bytes) or IPv6 (16 bytes) address as text into
 * @out (at least 46 bytes), NUL-terminated; returns its length. The same
 * text as glibc's inet_ntop() (RFC 5952 "::" for the longest run of two or
 * more zero groups, the first of equals; the last 32 bits dotted for
 * ::ffff:a.b.c.d and ::a.b.c.d), without going through sprintf, which made
 * inet_ntop a tenth of `generate`.
 */
#define PC_ADDR_TEXT_MAX 46
unsigned pc_addr_ntop(const unsigned char *a, bool v6, char *out);


/*
 * An interface name, or a prefix and '*' (eth*): 1-15 characters of
 * [A-Za-z0-9._+@-] in all. What the resolver accepts and the backends
 * check again.
 */
bool pc_iface_name_valid(const char *s);

#endif
