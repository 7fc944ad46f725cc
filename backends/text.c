/* SPDX-License-Identifier: MIT */
#include "backends/text.h"

#include <stdarg.h>
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
	const char *name = pc_origin_name(origin);

	if (name)
		return name;
	return origin == PC_ORIGIN_POLICY ? "policy" : "built-in";
}

void pc_text_rule_origin(struct pc_buf *b, enum pc_direction dir,
			 const struct pc_rule *r)
{
	pc_text_location(b, &r->loc);
	if (r->origin == PC_ORIGIN_DEFAULT) {
		pc_buf_printf(b, " default %s %s", pc_direction_name(dir),
			      pc_verdict_name(r->verdict));
	} else if (r->origin != PC_ORIGIN_POLICY) {
		pc_buf_putc(b, ' ');
		pc_buf_puts(b, pc_text_origin(r->origin));
	}
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

void pc_text_error(struct pc_diag *diag, int *errors, const struct pc_location *loc,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_diag_vreport(diag, PC_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
	(*errors)++;
}
