/* SPDX-License-Identifier: MIT */
#include "ir/names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <portcullis/ir.h>

#include "common/util.h"

static const struct {
	const char *name;
	unsigned num;
} protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 }, { "egp", 8 },
	{ "udp", 17 }, { "dccp", 33 }, { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 },
	{ "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 }, { "ipv6-icmp", 58 },
	{ "ospf", 89 }, { "pim", 103 }, { "vrrp", 112 }, { "l2tp", 115 },
	{ "sctp", 132 }, { "udplite", 136 },
};

/* "0" ... "255" -> value, -1 for anything else. */
static int parse_u8(const char *s)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 255)
		return -1;
	return (int)v;
}

int pc_proto_parse(const char *s)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(protos); i++)
		if (strcasecmp(s, protos[i].name) == 0)
			return (int)protos[i].num;
	return parse_u8(s);
}

const char *pc_proto_name(unsigned proto)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(protos); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}

struct icmp_name {
	const char *name;
	unsigned type;
};

static const struct icmp_name icmp4[] = {
	{ "echo-reply", 0 },
	{ "destination-unreachable", 3 },
	{ "source-quench", 4 },
	{ "redirect", 5 },
	{ "echo-request", 8 },
	{ "router-advertisement", 9 },
	{ "router-solicitation", 10 },
	{ "time-exceeded", 11 },
	{ "parameter-problem", 12 },
	{ "timestamp-request", 13 },
	{ "timestamp-reply", 14 },
	{ "info-request", 15 },
	{ "info-reply", 16 },
	{ "address-mask-request", 17 },
	{ "address-mask-reply", 18 },
};

static const struct icmp_name icmp6[] = {
	{ "destination-unreachable", 1 },
	{ "packet-too-big", 2 },
	{ "time-exceeded", 3 },
	{ "parameter-problem", 4 },
	{ "echo-request", 128 },
	{ "echo-reply", 129 },
	{ "mld-listener-query", 130 },
	{ "mld-listener-report", 131 },
	{ "mld-listener-done", 132 },
	{ "nd-router-solicit", 133 },
	{ "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 },
	{ "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 },
	{ "router-renumbering", 138 },
	{ "ind-neighbor-solicit", 141 },
	{ "ind-neighbor-advert", 142 },
	{ "mld2-listener-report", 143 },
	/* nft's other name of 132 (issue 14: every name nft knows); after
	 * mld-listener-done, which stays the name written out */
	{ "mld-listener-reduction", 132 },
};

int pc_icmp_type_parse(const char *s, bool v6)
{
	const struct icmp_name *t = v6 ? icmp6 : icmp4;
	size_t n = v6 ? PC_ARRAY_SIZE(icmp6) : PC_ARRAY_SIZE(icmp4);

	for (size_t i = 0; i < n; i++)
		if (strcmp(s, t[i].name) == 0)
			return (int)t[i].type;
	return parse_u8(s);
}

const char *pc_icmp_type_name(unsigned type, bool v6)
{
	const struct icmp_name *t = v6 ? icmp6 : icmp4;
	size_t n = v6 ? PC_ARRAY_SIZE(icmp6) : PC_ARRAY_SIZE(icmp4);

	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return t[i].name;
	return NULL;
}

const char *pc_icmp_type_suggest(const char *s, bool v6)
{
	const struct icmp_name *t = v6 ? icmp6 : icmp4;
	size_t n = v6 ? PC_ARRAY_SIZE(icmp6) : PC_ARRAY_SIZE(icmp4);
	const char *best = NULL;
	unsigned best_d = 4;

	for (size_t i = 0; i < n; i++) {
		unsigned d = pc_edit_distance(s, t[i].name, best_d);

		if (d < best_d) {
			best_d = d;
			best = t[i].name;
		}
	}
	return best;
}

static char *put_u8(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_quad(char *p, const unsigned char *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_u8(p, a[i]);
	}
	return p;
}

/* A 16-bit group in hex without leading zeros. */
static char *put_group(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";

	if (v >= 0x1000)
		*p++ = hex[v >> 12];
	if (v >= 0x100)
		*p++ = hex[v >> 8 & 0xf];
	if (v >= 0x10)
		*p++ = hex[v >> 4 & 0xf];
	*p++ = hex[v & 0xf];
	return p;
}

/* Groups [@from, @to) of @w, joined by ':'. */
static char *put_groups(char *p, const unsigned *w, int from, int to)
{
	for (int i = from; i < to; i++) {
		if (i > from)
			*p++ = ':';
		p = put_group(p, w[i]);
	}
	return p;
}

/*
 * Kept speed trick (names.h says what it buys): the text backends format
 * every address of a ruleset; tests/unit/test_backends.c holds the output
 * to glibc's inet_ntop() on every shape of address.
 */
unsigned pc_addr_ntop(const unsigned char *a, bool v6, char *out)
{
	unsigned w[8];
	int best = -1, best_len = 1;
	char *p = out;

	if (!v6) {
		p = put_quad(p, a);
		*p = '\0';
		return (unsigned)(p - out);
	}
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/*
	 * The longest run of two or more zero groups, the first of equal
	 * ones (glibc), found a run at a time: the text of an IPv6 address
	 * cost some 440 instructions when each group was tested against the
	 * run at every step (issue 15: half the 42,000 map elements of the
	 * 2,000-term Capirca shape are IPv6).
	 */
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best < 0)
		p = put_groups(p, w, 0, 8);
	else if (best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
		/* ::ffff:a.b.c.d and ::a.b.c.d keep their dotted quad */
		*p++ = ':';
		*p++ = ':';
		if (best_len == 5) {
			memcpy(p, "ffff:", 5);
			p += 5;
		}
		p = put_quad(p, a + 12);
	} else {
		p = put_groups(p, w, 0, best);
		*p++ = ':';
		*p++ = ':';
		p = put_groups(p, w, best + best_len, 8);
	}
	*p = '\0';
	return (unsigned)(p - out);
}

/* An interface name, or a prefix and '*' (eth*): 1-15 characters in all. */
bool pc_iface_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || (n == 1 && s[0] == '*'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-+@", s[i]) &&
		    !(s[i] == '*' && i == n - 1))
			return false;
	return true;
}
