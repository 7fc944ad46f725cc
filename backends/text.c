/* SPDX-License-Identifier: MIT */
#include "backends/text.h"

#include <string.h>

#include "ir/names.h"

void pc_text_uint(struct pc_buf *b, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pc_buf_add(b, tmp + i, sizeof(tmp) - i);
}

/* A file name as given may hold anything: control characters become '?'. */
static void put_file_name(struct pc_buf *b, const char *s)
{
	while (*s) {
		size_t n = 0;

		while (s[n] && (unsigned char)s[n] >= 0x20 && s[n] != 0x7f)
			n++;
		pc_buf_add(b, s, n);
		s += n;
		if (*s) {
			pc_buf_putc(b, '?');
			s++;
		}
	}
}

void pc_text_location(struct pc_buf *b, const struct pc_location *loc)
{
	if (!loc->file) {
		pc_buf_puts(b, "built-in");
	} else if (loc->line) {
		put_file_name(b, loc->file);
		pc_buf_putc(b, ':');
		pc_text_uint(b, loc->line);
	} else {
		put_file_name(b, loc->file);
	}
}

const char *pc_text_origin(enum pc_rule_origin origin)
{
	switch (origin) {
	case PC_ORIGIN_POLICY: return "policy";
	case PC_ORIGIN_CONNTRACK: return "connection tracking";
	case PC_ORIGIN_LOOPBACK: return "loopback";
	case PC_ORIGIN_ESSENTIAL_ICMP: return "essential ICMP";
	case PC_ORIGIN_DEFAULT: return "default";
	default: break;
	}
	return "built-in";
}

void pc_text_addr(struct pc_buf *b, const struct pc_addr *a, bool short_host)
{
	char s[PC_ADDR_TEXT_MAX];
	bool v6 = a->family == PC_FAM_IPV6;

	pc_buf_add(b, s, pc_addr_ntop(a->a, v6, s));
	if (!short_host || a->plen != (v6 ? 128 : 32)) {
		pc_buf_putc(b, '/');
		pc_text_uint(b, a->plen);
	}
}

bool pc_text_chain_closed(const struct pc_chain *c)
{
	const struct pc_rule *r;

	if (c->n == 0)
		return false;
	r = &c->rules[c->n - 1];
	return r->origin == PC_ORIGIN_DEFAULT && r->families == PC_FAM_ALL &&
	       !r->iface && !r->saddr.n && !r->daddr.n && !r->n_l4 &&
	       !r->ct_state && !r->limit.rate;
}

bool pc_text_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool pc_text_valid_iface(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_.:@+-", s[i])) &&
		    !(s[i] == '*' && i == n - 1 && n > 1))
			return false;
	return true;
}

bool pc_text_valid_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.+-", *s)))
			return false;
	return true;
}
