/* SPDX-License-Identifier: MIT */
#include <portcullis/diag.h>

#include <stdlib.h>
#include <string.h>

#include "common/diag_walk.h"
#include "common/util.h"

struct source {
	char *name;
	char *text;
	size_t len;
	/* offset of the start of each line, built once: a warning per line of a
	 * big policy must not scan the text from its start every time */
	size_t *line_start;
	size_t n_lines;
};

struct message {
	enum pc_severity sev;
	struct pc_location loc;
	bool has_loc;
	char *file;   /* own copy: locations may point into freed trees */
	size_t seq;
	char *text;
};

struct pc_diag {
	struct source *src;
	size_t n_src, cap_src;
	struct message *msg;
	size_t n_msg, cap_msg;
	size_t count[__PC_SEV_MAX];
	size_t dropped;
};

struct pc_diag *pc_diag_create(void)
{
	return xzalloc(sizeof(struct pc_diag));
}

static void clear_messages(struct pc_diag *d)
{
	for (size_t i = 0; i < d->n_msg; i++) {
		free(d->msg[i].text);
		free(d->msg[i].file);
	}
	d->n_msg = 0;
}

void pc_diag_destroy(struct pc_diag *d)
{
	if (!d)
		return;
	clear_messages(d);
	free(d->msg);
	for (size_t i = 0; i < d->n_src; i++) {
		free(d->src[i].name);
		free(d->src[i].text);
		free(d->src[i].line_start);
	}
	free(d->src);
	free(d);
}

const char *pc_diag_add_source(struct pc_diag *d, const char *name,
			       const char *text, size_t len)
{
	struct source *s;

	d->src = xgrow(d->src, &d->cap_src, d->n_src + 1, sizeof(*d->src));
	s = &d->src[d->n_src++];
	s->name = xstrdup(name);
	s->text = xstrndup(text, len);
	s->len = len;
	/* memchr, not a loop over every byte: apply reads every policy it
	 * loads through here (a 100,000-line list was 8 % of apply's
	 * instructions in these two passes) */
	s->n_lines = 1;
	for (const char *nl = s->text; (nl = memchr(nl, '\n', len - (size_t)(nl - s->text))); nl++)
		s->n_lines++;
	s->line_start = xcalloc(s->n_lines, sizeof(*s->line_start));
	s->n_lines = 1;
	for (const char *nl = s->text; (nl = memchr(nl, '\n', len - (size_t)(nl - s->text))); nl++)
		s->line_start[s->n_lines++] = (size_t)(nl - s->text) + 1;
	return s->name;
}

/* The text of 1-based @line of @s, without its newline; false past the end. */
static bool source_line(const struct source *s, unsigned line,
			const char **begin, const char **end)
{
	const char *eol;

	if (line == 0 || line > s->n_lines)
		return false;
	*begin = s->text + s->line_start[line - 1];
	eol = memchr(*begin, '\n', (size_t)(s->text + s->len - *begin));
	*end = eol ? eol : s->text + s->len;
	return true;
}

static const struct source *find_source(const struct pc_diag *d, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = d->n_src; i-- > 0;)
		if (d->src[i].name == name)
			return &d->src[i];
	for (size_t i = d->n_src; i-- > 0;)
		if (strcmp(d->src[i].name, name) == 0)
			return &d->src[i];
	return NULL;
}

/* A policy included twice, or a group used by many rules, gives the same
 * warning at the same place again: it says nothing new. */
static bool is_repeat(const struct pc_diag *d, enum pc_severity sev,
		      const struct pc_location *loc, const char *text)
{
	for (size_t i = 0; i < d->n_msg; i++) {
		const struct message *m = &d->msg[i];

		/* the place before the text: 2,000 warnings of one kind ("port
		 * N/tcp is Unassigned") each compared their text with the 200
		 * kept, a third of `apply`'s own time on such a policy */
		if (m->sev != sev || m->has_loc != (loc != NULL))
			continue;
		if (loc && (m->loc.line != loc->line || m->loc.col != loc->col))
			continue;
		if (strcmp(m->text, text) != 0)
			continue;
		if (!loc || m->file == loc->file ||
		    (m->file && loc->file && strcmp(m->file, loc->file) == 0))
			return true;
	}
	return false;
}

bool pc_diag_silenced(const struct pc_diag *d, const struct pc_location *loc,
		      const char *id)
{
	const struct source *src = loc ? find_source(d, loc->file) : NULL;
	const char *p, *end, *c;
	size_t idlen = strlen(id);

	if (!src || !source_line(src, loc->line, &p, &end))
		return false;
	/* the comment: '#', spaces, "portcullis:", spaces, "ignore", then IDs */
	for (c = memchr(p, '#', (size_t)(end - p)); c; c = memchr(c + 1, '#', (size_t)(end - c - 1))) {
		const char *q = c + 1;

		while (q < end && *q == ' ')
			q++;
		if ((size_t)(end - q) < 11 || strncmp(q, "portcullis:", 11) != 0)
			continue;
		q += 11;
		while (q < end && *q == ' ')
			q++;
		if ((size_t)(end - q) < 6 || strncmp(q, "ignore", 6) != 0)
			continue;
		q += 6;
		while (q < end) {
			const char *w;

			while (q < end && (*q == ' ' || *q == ','))
				q++;
			for (w = q; q < end && *q != ' ' && *q != ','; q++)
				;
			if ((size_t)(q - w) == idlen && strncmp(w, id, idlen) == 0)
				return true;
		}
	}
	return false;
}

/* A message kept has @sev and the line and column of @loc (or no place, as @loc). */
static bool place_kept(const struct pc_diag *d, enum pc_severity sev,
		       const struct pc_location *loc)
{
	for (size_t i = 0; i < d->n_msg; i++) {
		const struct message *m = &d->msg[i];

		if (m->sev == sev && m->has_loc == (loc != NULL) &&
		    (!loc || (m->loc.line == loc->line && m->loc.col == loc->col)))
			return true;
	}
	return false;
}

void pc_diag_vreport(struct pc_diag *d, enum pc_severity sev,
		     const struct pc_location *loc, const char *fmt, va_list ap)
{
	struct message *m;
	char *text;

	/*
	 * A warning past the ones kept that repeats none of them (none at its
	 * place) is only counted: not formatted first (2,000 "port N/tcp is
	 * Unassigned" warnings of a policy, 14 % of its `generate`).
	 */
	if (sev != PC_SEV_ERROR && d->n_msg > 4 * PC_DIAG_MAX_ERRORS &&
	    !place_kept(d, sev, loc)) {
		d->count[sev]++;
		d->dropped++;
		return;
	}
	if (vasprintf(&text, fmt, ap) < 0)
		PC_BUG("vasprintf");
	if (sev != PC_SEV_ERROR && is_repeat(d, sev, loc, text)) {
		free(text);
		return;
	}
	d->count[sev]++;
	if ((sev == PC_SEV_ERROR && d->count[sev] > PC_DIAG_MAX_ERRORS) ||
	    (sev != PC_SEV_ERROR && d->n_msg > 4 * PC_DIAG_MAX_ERRORS)) {
		d->dropped++;
		free(text);
		return;
	}
	d->msg = xgrow(d->msg, &d->cap_msg, d->n_msg + 1, sizeof(*d->msg));
	m = &d->msg[d->n_msg++];
	m->sev = sev;
	m->seq = d->n_msg;
	m->has_loc = loc != NULL;
	if (loc)
		m->loc = *loc;
	else
		memset(&m->loc, 0, sizeof(m->loc));
	m->file = m->loc.file ? xstrdup(m->loc.file) : NULL;
	m->loc.file = m->file;
	m->text = text;
}

void pc_diag_report(struct pc_diag *d, enum pc_severity sev,
		    const struct pc_location *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_diag_vreport(d, sev, loc, fmt, ap);
	va_end(ap);
}

size_t pc_diag_count(const struct pc_diag *d, enum pc_severity sev)
{
	return d->count[sev];
}

bool pc_diag_full(const struct pc_diag *d)
{
	return d->count[PC_SEV_ERROR] >= PC_DIAG_MAX_ERRORS;
}

static const char *sev_name[] = {
	[PC_SEV_NOTE] = "note",
	[PC_SEV_WARNING] = "warning",
	[PC_SEV_ERROR] = "error",
};

static const char *sev_color[] = {
	[PC_SEV_NOTE] = "\033[1;36m",
	[PC_SEV_WARNING] = "\033[1;35m",
	[PC_SEV_ERROR] = "\033[1;31m",
};

#define QUOTE_MAX 160

/* Prints the source line of @loc and a caret line under the token. */
static void print_quote(FILE *out, const struct source *s,
			const struct pc_location *loc, bool color)
{
	const char *p, *eol;
	unsigned col;

	if (!source_line(s, loc->line, &p, &eol))
		return;
	col = loc->col;
	/* a very long line is shown as a window around the column */
	if (eol - p > QUOTE_MAX) {
		const char *start = p + (col > QUOTE_MAX / 2 ? col - QUOTE_MAX / 2 : 0);

		if (start > eol)
			start = eol;
		col -= (unsigned)(start - p);
		p = start;
		if (eol - p > QUOTE_MAX)
			eol = p + QUOTE_MAX;
	}
	fputs("  ", out);
	/* Show control bytes (NUL, ESC) visibly: the quote must be safe to print. */
	for (const char *q = p; q < eol; q++) {
		unsigned char c = (unsigned char)*q;

		fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : '?', out);
	}
	fputs("\n  ", out);
	for (unsigned i = 1; i < col && p + i - 1 < eol; i++)
		fputc(p[i - 1] == '\t' ? '\t' : ' ', out);
	if (color)
		fputs("\033[1;32m", out);
	fputc('^', out);
	for (unsigned i = 1; i < loc->len && p + col - 1 + i < eol; i++)
		fputc('~', out);
	if (color)
		fputs("\033[0m", out);
	fputc('\n', out);
}

static const struct pc_diag *sort_diag;

static size_t source_rank(const struct pc_diag *d, const char *file)
{
	if (!file)
		return 0;
	for (size_t i = 0; i < d->n_src; i++)
		if (strcmp(d->src[i].name, file) == 0)
			return i + 1;
	return d->n_src + 1;
}

/* Messages in source order: file as first read, line, column; ties keep
 * the order reported (qsort is not stable, so the index breaks them). */
static int msg_cmp(const void *pa, const void *pb)
{
	const struct message *a = pa, *b = pb;
	size_t ra = source_rank(sort_diag, a->loc.file), rb = source_rank(sort_diag, b->loc.file);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void print_messages(const struct pc_diag *d, FILE *out, bool color)
{
	for (size_t i = 0; i < d->n_msg; i++) {
		const struct message *m = &d->msg[i];
		const struct source *s = NULL;

		if (m->has_loc && m->loc.file) {
			fputs(m->loc.file, out);
			if (m->loc.line) {
				fprintf(out, ":%u", m->loc.line);
				if (m->loc.col)
					fprintf(out, ":%u", m->loc.col);
			}
			fputs(": ", out);
			s = find_source(d, m->loc.file);
		} else {
			fputs("portcullis: ", out);
		}
		if (color)
			fprintf(out, "%s%s:\033[0m ", sev_color[m->sev], sev_name[m->sev]);
		else
			fprintf(out, "%s: ", sev_name[m->sev]);
		fputs(m->text, out);
		fputc('\n', out);
		if (s && m->loc.line && m->loc.col && m->sev != PC_SEV_NOTE)
			print_quote(out, s, &m->loc, color);
	}
	if (d->dropped)
		fprintf(out, "portcullis: note: %zu more messages not shown\n", d->dropped);
}

void pc_diag_print(struct pc_diag *d, FILE *out, bool color)
{
	char *text = NULL;
	size_t len = 0;
	FILE *buf;

	sort_diag = d;
	if (d->n_msg > 1)
		qsort(d->msg, d->n_msg, sizeof(*d->msg), msg_cmp);
	sort_diag = NULL;
	/*
	 * Made in memory, written once: stderr is unbuffered, and a quote's
	 * caret line is written a byte at a time (2,000 warnings were 14,000
	 * write() calls, most of apply's system time on today's benchmark).
	 */
	buf = d->n_msg || d->dropped ? open_memstream(&text, &len) : NULL;
	if (buf) {
		print_messages(d, buf, color);
		if (fclose(buf) == 0)
			fwrite(text, 1, len, out);
		else
			buf = NULL; /* out of memory: written as before */
		free(text);
	}
	if (!buf)
		print_messages(d, out, color);
	clear_messages(d);
	d->dropped = 0;
}

size_t pc_diag_take(struct pc_diag *d,
		    void (*fn)(void *ctx, enum pc_severity sev,
			       const struct pc_location *loc, const char *text),
		    void *ctx)
{
	size_t dropped = d->dropped;

	sort_diag = d;
	if (d->n_msg > 1)
		qsort(d->msg, d->n_msg, sizeof(*d->msg), msg_cmp);
	sort_diag = NULL;
	for (size_t i = 0; i < d->n_msg; i++) {
		const struct message *m = &d->msg[i];

		fn(ctx, m->sev, m->has_loc && m->loc.file ? &m->loc : NULL, m->text);
	}
	clear_messages(d);
	d->dropped = 0;
	return dropped;
}
