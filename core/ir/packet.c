/* SPDX-License-Identifier: MIT */
/* The packet syntax of `portcullis explain`: parse and format. */
#include "ir/eval.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/names.h"
#include "common/util.h"

static int parse_u(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > max || (s[0] == '0' && s[1]))
		return -1;
	return (int)v;
}

static const char *const ct_names[] = { "new", "established", "related", "invalid" };
static const char *const dir_names[] = { "in", "out", "forward" };

/* A word of the input: [start, start + len). */
struct word {
	const char *s;
	size_t len;
};

struct parser {
	const char *text;
	struct word w[16];
	size_t n, i;
	struct pc_packet_error *err;
};

static int fail(struct parser *ps, const struct word *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, const struct word *w, const char *fmt, ...)
{
	va_list ap;

	if (!ps->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	if (w) {
		ps->err->col = (size_t)(w->s - ps->text);
		ps->err->len = w->len;
	} else {
		ps->err->col = strlen(ps->text);
		ps->err->len = 0;
	}
	return -1;
}

/* Splits at blanks, and around "->" inside a word. */
static int split(struct parser *ps)
{
	const char *s = ps->text;

	while (*s) {
		const char *e;

		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		e = s;
		while (*e && !isspace((unsigned char)*e) &&
		       !(e[0] == '-' && e[1] == '>') )
			e++;
		if (e == s)
			e = s + 2; /* "->" */
		if (ps->n == PC_ARRAY_SIZE(ps->w)) {
			struct word w = { s, (size_t)(e - s) };

			return fail(ps, &w, "too many words");
		}
		ps->w[ps->n].s = s;
		ps->w[ps->n].len = (size_t)(e - s);
		ps->n++;
		s = e;
	}
	return 0;
}

static bool word_is(const struct word *w, const char *s)
{
	return strlen(s) == w->len && memcmp(w->s, s, w->len) == 0;
}

static void word_copy(const struct word *w, char *buf, size_t len)
{
	size_t n = w->len < len - 1 ? w->len : len - 1;

	memcpy(buf, w->s, n);
	buf[n] = 0;
}

static const struct word *next(struct parser *ps)
{
	return ps->i < ps->n ? &ps->w[ps->i++] : NULL;
}

/* An address, optionally [bracketed] (IPv6 only), no port. */
static int parse_addr(const char *s, size_t len, unsigned *family, uint8_t *a)
{
	char buf[64];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = 0;
		*family = PC_FAM_IPV6;
		return inet_pton(AF_INET6, buf, a) == 1 ? 0 : -1;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1) {
		*family = PC_FAM_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		*family = PC_FAM_IPV6;
		return 0;
	}
	return -1;
}

static int parse_iface(struct parser *ps, const struct word *on, char *buf,
		       struct pc_packet *p)
{
	const struct word *w = next(ps);

	if (p->iface)
		return fail(ps, on, "the interface is given twice");
	if (!w)
		return fail(ps, NULL, "expected an interface name after 'on'");
	if (w->len == 0 || w->len > 15)
		return fail(ps, w, "'%.*s' is not an interface name (1 to 15 bytes)",
			    (int)w->len, w->s);
	for (size_t i = 0; i < w->len; i++)
		if (w->s[i] == '/' || w->s[i] == ':')
			return fail(ps, w, "'%.*s' is not an interface name",
				    (int)w->len, w->s);
	word_copy(w, buf, 16);
	p->iface = buf;
	return 0;
}

/* `out on IFACE` of a forwarded packet: the interface it leaves on. */
static int parse_oiface(struct parser *ps, const struct word *out, struct pc_packet *p)
{
	const struct word *on = next(ps), *w;

	if (!on || !word_is(on, "on"))
		return fail(ps, on, "expected 'on IFACE' after 'out'");
	/* an in packet may be sent on by a dnat: where it would then leave */
	if (p->dir == PC_DIR_OUT)
		return fail(ps, out, "'out on' is for forwarded packets (and in packets a dnat sends on): the 'on' of an out packet is its interface");
	if (p->oiface[0])
		return fail(ps, out, "the leaving interface is given twice");
	w = next(ps);
	if (!w)
		return fail(ps, NULL, "expected an interface name after 'out on'");
	if (w->len == 0 || w->len > 15)
		return fail(ps, w, "'%.*s' is not an interface name (1 to 15 bytes)",
			    (int)w->len, w->s);
	for (size_t i = 0; i < w->len; i++)
		if (w->s[i] == '/' || w->s[i] == ':' || w->s[i] == '*')
			return fail(ps, w, "'%.*s' is not an interface name",
				    (int)w->len, w->s);
	word_copy(w, p->oiface, sizeof(p->oiface));
	return 0;
}

static bool is_loopback(unsigned family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (family == PC_FAM_IPV4)
		return a[0] == 127;
	return memcmp(a, v6lo, 16) == 0;
}

/*
 * DST[:PORT] according to the protocol; with @src, the source: SRC or
 * SRC:PORT ([IPv6]:PORT), its port optional.
 */
static int parse_endpoint(struct parser *ps, const struct word *w, struct pc_packet *p,
			  unsigned *family, bool src)
{
	bool ports = pc_proto_has_ports(p->proto);
	uint8_t *addr = src ? p->saddr : p->daddr;
	const char *s = w->s, *colon = NULL;
	size_t len = w->len;

	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb)
			return fail(ps, w, "missing ']' in '%.*s'", (int)len, s);
		if ((size_t)(rb + 1 - s) < len) {
			if (rb[1] != ':')
				return fail(ps, w, "expected ':PORT' after ']' in '%.*s'",
					    (int)len, s);
			colon = rb + 1;
		}
	} else {
		const char *c1 = memchr(s, ':', len);

		if (c1 && !memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s)))
			colon = c1; /* IPv4:PORT */
		else if (c1 && ports && !src) {
			/* Bare IPv6: a port would be ambiguous. */
			return fail(ps, w, "write the IPv6 destination as [ADDRESS]:PORT");
		}
	}
	if (parse_addr(s, colon ? (size_t)(colon - s) : len, family, addr) < 0) {
		struct word a = { s, colon ? (size_t)(colon - s) : len };

		return fail(ps, &a, "'%.*s' is not an IPv4 or IPv6 address",
			    (int)a.len, a.s);
	}
	if (ports) {
		char buf[8];
		struct word pw;
		int port;

		if (!colon && src)
			return 0;
		if (!colon)
			return fail(ps, w, "%s needs a destination port: %s",
				    pc_proto_name(p->proto),
				    *family == PC_FAM_IPV6 ? "[ADDRESS]:PORT" : "ADDRESS:PORT");
		pw.s = colon + 1;
		pw.len = len - (size_t)(colon + 1 - s);
		if (pw.len == 0 || pw.len >= sizeof(buf))
			port = -1;
		else {
			word_copy(&pw, buf, sizeof(buf));
			port = parse_u(buf, 65535);
		}
		if (port < 0)
			return fail(ps, &pw, "'%.*s' is not a port (0-65535)",
				    (int)pw.len, pw.s);
		if (src) {
			p->sport = (uint16_t)port;
			p->has_sport = true;
		} else {
			p->dport = (uint16_t)port;
		}
	} else if (colon) {
		struct word pw = { colon, len - (size_t)(colon - s) };

		return fail(ps, &pw, "protocol %u has no ports", p->proto);
	}
	return 0;
}

int pc_packet_parse(const char *text, struct pc_packet *p, char *iface_buf,
		    struct pc_packet_error *err)
{
	struct parser ps = { .text = text, .err = err };
	const struct word *w, *proto_w, *type_w = NULL;
	unsigned sfam, dfam;
	size_t i;

	pc_packet_init(p);
	if (split(&ps) < 0)
		return -1;

	w = next(&ps);
	if (!w)
		return fail(&ps, NULL, "empty packet: expected in, out or forward");
	for (i = 0; i < PC_ARRAY_SIZE(dir_names); i++)
		if (word_is(w, dir_names[i]))
			break;
	if (i == PC_ARRAY_SIZE(dir_names))
		return fail(&ps, w, "'%.*s': expected a direction: in, out or forward",
			    (int)w->len, w->s);
	p->dir = (enum pc_direction)i;

	w = next(&ps);
	if (w && word_is(w, "on")) {
		if (parse_iface(&ps, w, iface_buf, p) < 0)
			return -1;
		w = next(&ps);
	}
	if (w && word_is(w, "out")) {
		if (parse_oiface(&ps, w, p) < 0)
			return -1;
		w = next(&ps);
	}
	if (!w)
		return fail(&ps, NULL, "expected a protocol (tcp, udp, icmp, ...)");
	proto_w = w;
	{
		char buf[16];
		int v = -1;

		if (w->len < sizeof(buf)) {
			word_copy(w, buf, sizeof(buf));
			v = pc_proto_parse(buf);
		}
		if (v < 0)
			return fail(&ps, w, "'%.*s': expected a protocol: tcp, udp, sctp, dccp, icmp, icmpv6, another name or a number 0-255",
				    (int)w->len, w->s);
		p->proto = (uint8_t)v;
	}

	w = next(&ps);
	if (!w)
		return fail(&ps, NULL, "expected the source address");
	if (parse_endpoint(&ps, w, p, &sfam, true) < 0)
		return -1;
	w = next(&ps);
	if (!w || !word_is(w, "->"))
		return w ? fail(&ps, w, "expected '->' after the source address") :
			   fail(&ps, NULL, "expected '-> DESTINATION'");
	w = next(&ps);
	if (!w)
		return fail(&ps, NULL, "expected the destination address");
	if (parse_endpoint(&ps, w, p, &dfam, false) < 0)
		return -1;
	if (sfam != dfam)
		return fail(&ps, w, "source and destination are of different families");
	p->family = sfam;
	if (p->proto == PC_PROTO_ICMP && p->family != PC_FAM_IPV4)
		return fail(&ps, proto_w, "icmp is IPv4 only: use icmpv6 with IPv6 addresses");
	if (p->proto == PC_PROTO_ICMPV6 && p->family != PC_FAM_IPV6)
		return fail(&ps, proto_w, "icmpv6 is IPv6 only: use icmp with IPv4 addresses");

	while ((w = next(&ps))) {
		if (word_is(w, "on")) {
			if (parse_iface(&ps, w, iface_buf, p) < 0)
				return -1;
		} else if (word_is(w, "out")) {
			if (parse_oiface(&ps, w, p) < 0)
				return -1;
		} else if (word_is(w, "type")) {
			const struct word *t = next(&ps);
			char buf[40];
			int v = -1;

			if (p->proto != PC_PROTO_ICMP && p->proto != PC_PROTO_ICMPV6)
				return fail(&ps, w, "'type' is for icmp and icmpv6 packets");
			if (type_w)
				return fail(&ps, w, "the ICMP type is given twice");
			if (!t)
				return fail(&ps, NULL, "expected an ICMP type after 'type'");
			if (t->len < sizeof(buf)) {
				word_copy(t, buf, sizeof(buf));
				v = pc_icmp_type_parse(buf, p->family == PC_FAM_IPV6);
			}
			if (v < 0) {
				const char *hint = t->len < sizeof(buf) ?
					pc_icmp_type_suggest(buf, p->family == PC_FAM_IPV6) : NULL;

				return fail(&ps, t, "'%.*s' is not an %s type%s%s%s",
					    (int)t->len, t->s,
					    p->family == PC_FAM_IPV4 ? "ICMP" : "ICMPv6",
					    hint ? "; did you mean '" : " (a name such as echo-request, or 0-255)",
					    hint ? hint : "", hint ? "'?" : "");
			}
			p->icmp_type = v;
			type_w = t;
		} else if (word_is(w, "state")) {
			const struct word *t = next(&ps);

			if (!t)
				return fail(&ps, NULL, "expected new, established, related or invalid after 'state'");
			for (i = 0; i < PC_ARRAY_SIZE(ct_names); i++)
				if (word_is(t, ct_names[i]))
					break;
			if (i == PC_ARRAY_SIZE(ct_names))
				return fail(&ps, t, "'%.*s': expected new, established, related or invalid",
					    (int)t->len, t->s);
			p->ct_state = 1u << i;
		} else {
			return fail(&ps, w, "unexpected '%.*s': expected type, on, out on or state",
				    (int)w->len, w->s);
		}
	}
	if (!p->iface && (is_loopback(p->family, p->saddr) ||
			  is_loopback(p->family, p->daddr)))
		p->iface = "lo";
	return 0;
}

void pc_packet_format(const struct pc_packet *p, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], proto[8];
	const char *pn = NULL;
	int af = p->family == PC_FAM_IPV4 ? AF_INET : AF_INET6;
	size_t off = 0;
	int n;

	pn = pc_proto_name(p->proto);
	if (!pn) {
		snprintf(proto, sizeof(proto), "%u", p->proto);
		pn = proto;
	}
	inet_ntop(af, p->saddr, s, sizeof(s));
	inet_ntop(af, p->daddr, d, sizeof(d));
#define ADD(...)                                                                 \
	do {                                                                     \
		n = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
		if (n > 0)                                                       \
			off += (size_t)n;                                        \
	} while (0)
	ADD("%s", (unsigned)p->dir < PC_ARRAY_SIZE(dir_names) ? dir_names[p->dir] : "?");
	if (p->iface)
		ADD(" on %s", p->iface);
	if (p->oiface[0])
		ADD(" out on %s", p->oiface);
	if (p->has_sport && pc_proto_has_ports(p->proto))
		ADD(p->family == PC_FAM_IPV6 ? " %s [%s]:%u -> " : " %s %s:%u -> ", pn, s, p->sport);
	else
		ADD(" %s %s -> ", pn, s);
	if (pc_proto_has_ports(p->proto))
		ADD(p->family == PC_FAM_IPV6 ? "[%s]:%u" : "%s:%u", d, p->dport);
	else
		ADD("%s", d);
	if ((p->proto == PC_PROTO_ICMP || p->proto == PC_PROTO_ICMPV6) &&
	    p->icmp_type >= 0) {
		const char *tn = pc_icmp_type_name((unsigned)p->icmp_type, p->family == PC_FAM_IPV6);

		if (tn)
			ADD(" type %s", tn);
		else
			ADD(" type %d", p->icmp_type);
	}
	for (size_t i = 0; i < PC_ARRAY_SIZE(ct_names); i++)
		if (p->ct_state == 1u << i && i != 0)
			ADD(" state %s", ct_names[i]);
#undef ADD
	if (len && off >= len)
		buf[len - 1] = 0;
}
