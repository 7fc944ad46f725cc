/* SPDX-License-Identifier: MIT */
/*
 * portcullis lookup's output: registry entries as an aligned table, and
 * as JSON (lookup_internal.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/lookup_internal.h"
#include "common/util.h"

/* ---------------------------------------------------------------------- */
/* Table output                                                           */

static void table_add(struct table *t, char *cells[N_COLS])
{
	t->cell = xgrow(t->cell, &t->cap, (t->rows + 1) * N_COLS, sizeof(*t->cell));
	memcpy(t->cell + t->rows * N_COLS, cells, N_COLS * sizeof(*cells));
	t->rows++;
}

/* Multi-line registry text on one line: runs of white space become one. */
static char *one_line(const char *s)
{
	struct pc_buf b;
	bool space = false;

	pc_buf_init(&b);
	pc_buf_add(&b, "", 0);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = b.len > 0;
			continue;
		}
		if (space)
			pc_buf_putc(&b, ' ');
		space = false;
		/* nothing that a terminal would act on */
		pc_buf_putc(&b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	}
	return b.data;
}

static char *status_text(const struct pc_reg_entry *e)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_puts(&b, pc_reg_status_name(e->status));
	if (e->flags & PC_REG_UNAUTHORIZED)
		pc_buf_puts(&b, ", unauthorized use reported");
	if (e->flags & PC_REG_OVERLAY)
		pc_buf_puts(&b, ", site overlay");
	return b.data;
}

/*
 * The description, and what the status column cannot say: who held a
 * de-assigned port ("De-assigned on 2025-02-13, previously compressnet")
 * and where unauthorized use was seen.
 */
static char *description_text(const struct pc_reg_entry *e)
{
	char *d = one_line(e->description), *n, *u, *out;

	if (e->status != PC_REG_DEASSIGNED || !e->notes[0])
		n = xstrdup("");
	else {
		char *t = one_line(e->notes);

		n = xasprintf("%s(%s)", d[0] ? " " : "", t);
		free(t);
	}
	if (!(e->flags & PC_REG_UNAUTHORIZED))
		u = xstrdup("");
	else {
		char *t = one_line(e->unauthorized);

		u = xasprintf("%s[%s]", d[0] || n[0] ? " " : "", t);
		free(t);
	}
	out = xasprintf("%s%s%s", d, n, u);
	free(d);
	free(n);
	free(u);
	return out;
}

void table_add_entry(struct table *t, const struct pc_reg_entry *e)
{
	char *c[N_COLS];

	c[COL_NAME] = one_line(e->name ? e->name : "-");
	if (!e->has_port)
		c[COL_PORT] = xstrdup("-");
	else if (e->port_lo == e->port_hi)
		c[COL_PORT] = xasprintf("%u", e->port_lo);
	else
		c[COL_PORT] = xasprintf("%u-%u", e->port_lo, e->port_hi);
	/* no transport in the registry: the record applies to all of them */
	c[COL_PROTO] = xstrdup(pc_transport_name(e->transport));
	c[COL_STATUS] = status_text(e);
	c[COL_DESC] = description_text(e);
	table_add(t, c);
}

static size_t terminal_width(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 ||
	    ws.ws_col < 40)
		return 0;
	return ws.ws_col;
}

/* Prints and empties @t; on a terminal the last column is cut to fit. */
void table_print(struct table *t)
{
	static const char *const head[N_COLS] = {
		"NAME", "PORT", "PROTO", "STATUS", "DESCRIPTION",
	};
	size_t w[N_COLS], cols = terminal_width(), used = 0;

	for (size_t c = 0; c < N_COLS; c++)
		w[c] = strlen(head[c]);
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < N_COLS; c++) {
			size_t n = strlen(t->cell[r * N_COLS + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t c = 0; c + 1 < N_COLS; c++)
		used += w[c] + 2;
	for (size_t r = 0; r <= t->rows; r++) {
		for (size_t c = 0; c < N_COLS; c++) {
			const char *s = r ? t->cell[(r - 1) * N_COLS + c] : head[c];

			if (c + 1 < N_COLS) {
				printf("%-*s  ", (int)w[c], s);
				continue;
			}
			if (cols && used + strlen(s) > cols && cols > used + 8) {
				size_t keep = cols - used - 3;

				/* do not cut a UTF-8 sequence */
				while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
					keep--;
				printf("%.*s...\n", (int)keep, s);
			} else {
				printf("%s\n", s);
			}
		}
	}
	for (size_t i = 0; i < t->rows * N_COLS; i++)
		free(t->cell[i]);
	t->rows = 0;
}

/* ---------------------------------------------------------------------- */
/* JSON output (jansson)                                                  */

/* Length of the valid UTF-8 sequence at @s, 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80)
		return 2;
	if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * A JSON string, or null for NULL. jansson takes only valid UTF-8, and a
 * registry file may hold anything: invalid bytes become U+FFFD.
 */
json_t *jstr(const char *s)
{
	struct pc_buf b;
	json_t *j;

	if (!s)
		return json_null();
	pc_buf_init(&b);
	pc_buf_add(&b, "", 0);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		if (n == 0) {
			pc_buf_puts(&b, "\xef\xbf\xbd");
			p++;
			continue;
		}
		pc_buf_add(&b, p, n);
		p += n;
	}
	j = json_stringn(b.data, b.len);
	pc_buf_finish(&b);
	if (!j)
		PC_BUG("json_stringn");
	return j;
}

static json_t *json_entry(const struct pc_reg_entry *e)
{
	json_t *o = json_object(), *al = json_array();

	json_object_set_new(o, "name", jstr(e->name));
	json_object_set_new(o, "port", e->has_port ? json_integer(e->port_lo) : json_null());
	json_object_set_new(o, "port_high", e->has_port ? json_integer(e->port_hi) : json_null());
	json_object_set_new(o, "transport", jstr(e->transport < __PC_TRANSPORT_MAX ?
						 pc_transport_name(e->transport) : NULL));
	json_object_set_new(o, "status", jstr(pc_reg_status_name(e->status)));
	json_object_set_new(o, "unauthorized_use",
			    jstr(e->flags & PC_REG_UNAUTHORIZED ? e->unauthorized : NULL));
	json_object_set_new(o, "description", jstr(e->description));
	json_object_set_new(o, "notes", jstr(e->notes));
	for (const char *const *a = e->aliases; a && *a; a++)
		json_array_append_new(al, jstr(*a));
	json_object_set_new(o, "aliases", al);
	json_object_set_new(o, "found_by_alias", json_boolean(e->flags & PC_REG_ALIAS));
	json_object_set_new(o, "overlay", json_boolean(e->flags & PC_REG_OVERLAY));
	json_object_set_new(o, "file", jstr(e->file));
	json_object_set_new(o, "line", json_integer(e->line));
	return o;
}

json_t *json_entries(const struct pc_reg_entry *const *e, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_entry(e[i]));
	return a;
}
