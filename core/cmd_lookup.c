/* SPDX-License-Identifier: MIT */
/*
 * portcullis lookup: service names, ports and port classes in the registry,
 * as an aligned table or as JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "registry.h"
#include "util.h"

#define MAX_SUGGESTIONS 3

enum query_kind {
	Q_NAME,
	Q_PORT,
	Q_CLASS,
};

struct query {
	const char *text;
	enum query_kind kind;
	uint16_t port;
	unsigned transport;		/* __PC_TRANSPORT_MAX: any */
	enum pc_port_class cls;
};

static void usage(FILE *out)
{
	fputs("usage: portcullis lookup [OPTIONS] QUERY...\n"
	      "\n"
	      "Looks service names and ports up in the IANA service registry\n"
	      "(RFC 6335) and any site overlay.\n"
	      "\n"
	      "QUERY:\n"
	      "  NAME         a service name, in any case (ssh, SSH, http-alt);\n"
	      "               NAME/PROTO keeps one transport (ssh/udp)\n"
	      "  PORT         a port number (443): the entries covering it, ranges\n"
	      "               included, and its RFC 6335 class\n"
	      "  PORT/PROTO   one transport only (443/udp, 6010/tcp)\n"
	      "  CLASS        system (0-1023), user (1024-49151) or dynamic\n"
	      "               (49152-65535): the range and how many entries it holds\n"
	      "\n"
	      "Options:\n"
	      "  --registry FILE       read FILE (IANA CSV or /etc/services format)\n"
	      "                        instead of the installed registry; default also\n"
	      "                        from PORTCULLIS_REGISTRY\n"
	      "  --overlay FILE        add a site overlay (same formats) whose names\n"
	      "                        take precedence; repeatable. Also read:\n"
	      "                        PORTCULLIS_OVERLAY (FILE:FILE...) and\n"
	      "                        /etc/portcullis/services when it exists\n"
	      "  --no-default-overlay  do not read /etc/portcullis/services\n"
	      "  --json                print JSON instead of a table\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: 0 every query found; 1 an unknown name (with \"did you\n"
	      "mean\" suggestions) or a registry file with errors; 2 usage error;\n"
	      "3 a registry file cannot be read.\n", out);
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Returns false (and says why) for a query that cannot be anything. */
static bool query_parse(struct query *q, const char *text)
{
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	char lower[16];
	size_t i;

	q->text = text;
	q->transport = __PC_TRANSPORT_MAX;
	if (all_digits(text, n)) {
		unsigned long v = 0;

		for (i = 0; i < n && v <= 65535; i++)
			v = v * 10 + (unsigned long)(text[i] - '0');
		if (v > 65535) {
			fprintf(stderr, "portcullis: lookup: port '%.*s' out of range (0-65535)\n",
				(int)n, text);
			return false;
		}
		q->kind = Q_PORT;
		q->port = (uint16_t)v;
		if (slash) {
			int t = pc_transport_parse(slash + 1);

			if (t < 0) {
				fprintf(stderr, "portcullis: lookup: unknown transport '%s' "
					"(tcp, udp, sctp or dccp)\n", slash + 1);
				return false;
			}
			q->transport = (unsigned)t;
		}
		return true;
	}
	for (i = 0; text[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
	lower[i] = '\0';
	if (!text[i] && pc_port_class_parse(lower) >= 0) {
		q->kind = Q_CLASS;
		q->cls = (enum pc_port_class)pc_port_class_parse(lower);
		return true;
	}
	if (!*text) {
		fputs("portcullis: lookup: empty query\n", stderr);
		return false;
	}
	q->kind = Q_NAME;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Table output                                                           */

enum { COL_NAME, COL_PORT, COL_PROTO, COL_STATUS, COL_DESC, N_COLS };

struct table {
	char **cell;		/* rows * N_COLS */
	size_t rows, cap;
};

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

static void table_add_entry(struct table *t, const struct pc_reg_entry *e)
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
static void table_print(struct table *t)
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
/* JSON output                                                            */

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

/* A JSON string; invalid UTF-8 becomes U+FFFD. NULL prints null. */
static void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':
			fputs("\\\"", out);
			p++;
			continue;
		case '\\':
			fputs("\\\\", out);
			p++;
			continue;
		case '\n':
			fputs("\\n", out);
			p++;
			continue;
		case '\r':
			fputs("\\r", out);
			p++;
			continue;
		case '\t':
			fputs("\\t", out);
			p++;
			continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

static void json_entry(FILE *out, const struct pc_reg_entry *e)
{
	fputs("{\"name\": ", out);
	json_str(out, e->name);
	if (e->has_port)
		fprintf(out, ", \"port\": %u, \"port_high\": %u", e->port_lo, e->port_hi);
	else
		fputs(", \"port\": null, \"port_high\": null", out);
	fputs(", \"transport\": ", out);
	json_str(out, e->transport < __PC_TRANSPORT_MAX ?
		 pc_transport_name(e->transport) : NULL);
	fprintf(out, ", \"status\": \"%s\"", pc_reg_status_name(e->status));
	fputs(", \"unauthorized_use\": ", out);
	json_str(out, e->flags & PC_REG_UNAUTHORIZED ? e->unauthorized : NULL);
	fputs(", \"description\": ", out);
	json_str(out, e->description);
	fputs(", \"notes\": ", out);
	json_str(out, e->notes);
	fputs(", \"aliases\": [", out);
	for (const char *const *a = e->aliases; a && *a; a++) {
		if (a != e->aliases)
			fputs(", ", out);
		json_str(out, *a);
	}
	fprintf(out, "], \"found_by_alias\": %s, \"overlay\": %s, \"file\": ",
		e->flags & PC_REG_ALIAS ? "true" : "false",
		e->flags & PC_REG_OVERLAY ? "true" : "false");
	json_str(out, e->file);
	fprintf(out, ", \"line\": %u}", e->line);
}

static void json_entries(FILE *out, const struct pc_reg_entry *const *e, size_t n)
{
	fputs("\"entries\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n      " : "\n      ", out);
		json_entry(out, e[i]);
	}
	fputs(n ? "\n    ]" : "]", out);
}

/* ---------------------------------------------------------------------- */
/* The queries                                                            */

struct lookup {
	const struct pc_registry *reg;
	bool json;
	size_t done;		/* queries printed so far */
	struct table table;
};

static void begin_result(struct lookup *lk, const struct query *q, const char *type)
{
	if (lk->json) {
		fputs(lk->done ? ",\n    {" : "\n    {", stdout);
		fputs("\"query\": ", stdout);
		json_str(stdout, q->text);
		printf(", \"type\": \"%s\", ", type);
	} else if (lk->done) {
		putchar('\n');
	}
	lk->done++;
}

static const char *plural(size_t n)
{
	return n == 1 ? "entry" : "entries";
}

/* Returns 0, or 1 for an unknown name. */
static int lookup_name(struct lookup *lk, const struct query *q)
{
	const struct pc_reg_entry *const *found;
	const struct pc_reg_entry **keep = NULL;
	size_t n = pc_registry_find_name(lk->reg, q->text, &found), kept = 0;
	int transport = -1;
	char *name = NULL;

	if (n == 0 && strrchr(q->text, '/')) {
		/* NAME/PROTO, unless the name itself holds a slash (cl/1) */
		const char *slash = strrchr(q->text, '/');

		transport = pc_transport_parse(slash + 1);
		if (transport >= 0) {
			name = xstrndup(q->text, (size_t)(slash - q->text));
			n = pc_registry_find_name(lk->reg, name, &found);
		}
	}
	keep = xcalloc(n ? n : 1, sizeof(*keep));
	for (size_t i = 0; i < n; i++)
		if (transport < 0 || found[i]->transport == (unsigned)transport ||
		    found[i]->transport == PC_REG_NO_TRANSPORT)
			keep[kept++] = found[i];
	if (kept == 0) {
		const char *sugg[MAX_SUGGESTIONS];
		size_t ns = pc_registry_suggest(lk->reg, name ? name : q->text, sugg,
						MAX_SUGGESTIONS);

		if (lk->json) {
			begin_result(lk, q, "unknown");
			fputs("\"suggestions\": [", stdout);
			for (size_t i = 0; i < ns; i++) {
				fputs(i ? ", " : "", stdout);
				json_str(stdout, sugg[i]);
			}
			fputs("]}", stdout);
		}
		fprintf(stderr, "portcullis: lookup: unknown service name '%s'", q->text);
		for (size_t i = 0; i < ns; i++)
			fprintf(stderr, "%s'%s%s%s'", i == 0 ? "; did you mean " :
				i + 1 == ns ? " or " : ", ", sugg[i],
				transport >= 0 ? "/" : "",
				transport >= 0 ? pc_transport_name((unsigned)transport) : "");
		fputs(ns ? "?\n" : "\n", stderr);
		free(keep);
		free(name);
		return 1;
	}
	begin_result(lk, q, "name");
	if (lk->json) {
		json_entries(stdout, keep, kept);
		fputs("}", stdout);
	} else {
		printf("%s: %zu %s", q->text, kept, plural(kept));
		if (keep[0]->flags & PC_REG_ALIAS)
			printf(" (alias of %s)", keep[0]->name);
		fputs("\n", stdout);
		for (size_t i = 0; i < kept; i++)
			table_add_entry(&lk->table, keep[i]);
		table_print(&lk->table);
	}
	free(keep);
	free(name);
	return 0;
}

static void lookup_port(struct lookup *lk, const struct query *q)
{
	enum pc_port_class c = pc_port_class_of(q->port);
	const struct pc_reg_entry **e;
	size_t n = pc_registry_find_port(lk->reg, q->port, q->transport, NULL, 0);
	uint16_t lo, hi;

	e = xcalloc(n ? n : 1, sizeof(*e));
	pc_registry_find_port(lk->reg, q->port, q->transport, e, n);
	pc_port_class_range(c, &lo, &hi);
	begin_result(lk, q, "port");
	if (lk->json) {
		printf("\"port\": %u, \"transport\": ", q->port);
		json_str(stdout, q->transport < __PC_TRANSPORT_MAX ?
			 pc_transport_name(q->transport) : NULL);
		printf(", \"class\": \"%s\", \"class_low\": %u, \"class_high\": %u, ",
		       pc_port_class_name(c), lo, hi);
		json_entries(stdout, e, n);
		fputs("}", stdout);
	} else {
		printf("%s: %s port (%u-%u), ", q->text, pc_port_class_name(c), lo, hi);
		if (n == 0) {
			printf("no registry entries\n");
		} else {
			printf("%zu %s\n", n, plural(n));
			for (size_t i = 0; i < n; i++)
				table_add_entry(&lk->table, e[i]);
			table_print(&lk->table);
		}
	}
	free(e);
}

/*
 * A class is summed up, not listed: `lookup user` would print some 12,000
 * rows. It prints the range and how many entries fall in it, by status.
 */
static void lookup_class(struct lookup *lk, const struct query *q)
{
	size_t counts[__PC_REG_STATUS_MAX], total;
	uint16_t lo, hi;

	pc_port_class_range(q->cls, &lo, &hi);
	total = pc_registry_count_range(lk->reg, lo, hi, counts);
	begin_result(lk, q, "class");
	if (lk->json) {
		printf("\"class\": \"%s\", \"low\": %u, \"high\": %u, \"entries\": %zu, "
		       "\"by_status\": {", pc_port_class_name(q->cls), lo, hi, total);
		for (unsigned s = 0; s < __PC_REG_STATUS_MAX; s++)
			printf("%s\"%s\": %zu", s ? ", " : "", pc_reg_status_name(s),
			       counts[s]);
		fputs("}}", stdout);
		return;
	}
	printf("%s: ports %u-%u, RFC 6335 %s ports%s\n", q->text, lo, hi,
	       pc_port_class_name(q->cls),
	       q->cls == PC_PORT_DYNAMIC ? " (never assigned by IANA)" :
	       q->cls == PC_PORT_SYSTEM ? " (assigned by IETF review)" :
	       " (assigned by IANA on request)");
	printf("%zu registry %s in the range:", total, plural(total));
	for (unsigned s = 0; s < __PC_REG_STATUS_MAX; s++)
		printf("%s %zu %s", s ? "," : "", counts[s], pc_reg_status_name(s));
	putchar('\n');
	if (total)
		printf("(look up a port, e.g. `portcullis lookup %u`, for its entries)\n", lo);
}

int cmd_lookup(int argc, char **argv)
{
	enum { OPT_REGISTRY = 256, OPT_OVERLAY, OPT_NO_DEFAULT_OVERLAY, OPT_JSON };
	static const struct option opts[] = {
		{ "registry", required_argument, NULL, OPT_REGISTRY },
		{ "overlay", required_argument, NULL, OPT_OVERLAY },
		{ "no-default-overlay", no_argument, NULL, OPT_NO_DEFAULT_OVERLAY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro = { 0 };
	struct lookup lk = { 0 };
	struct pc_registry *reg = NULL;
	struct pc_diag *diag = NULL;
	struct query *q = NULL;
	int c, status = PC_EXIT_OK, nq;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_REGISTRY:
			ro.registry = optarg;
			break;
		case OPT_OVERLAY:
			if (!pc_cli_add_overlay(&ro, optarg, "lookup"))
				return PC_EXIT_USAGE;
			break;
		case OPT_NO_DEFAULT_OVERLAY:
			ro.no_default_overlay = true;
			break;
		case OPT_JSON:
			lk.json = true;
			break;
		case 'h':
			usage(stdout);
			return PC_EXIT_OK;
		default:
			usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	nq = argc - optind;
	if (nq < 1) {
		usage(stderr);
		return PC_EXIT_USAGE;
	}
	q = xcalloc((size_t)nq, sizeof(*q));
	for (int i = 0; i < nq; i++)
		if (!query_parse(&q[i], argv[optind + i])) {
			status = PC_EXIT_USAGE;
			goto out;
		}
	diag = pc_diag_create();
	reg = pc_cli_open_registry(&ro, diag, &status);
	if (!reg)
		goto out;
	lk.reg = reg;
	if (lk.json) {
		fputs("{\"registry\": ", stdout);
		json_str(stdout, pc_registry_source(reg));
		fputs(", \"date\": ", stdout);
		json_str(stdout, pc_registry_date(reg));
		fputs(", \"results\": [", stdout);
	}
	for (int i = 0; i < nq; i++) {
		switch (q[i].kind) {
		case Q_NAME:
			if (lookup_name(&lk, &q[i]))
				status = PC_EXIT_POLICY;
			break;
		case Q_PORT:
			lookup_port(&lk, &q[i]);
			break;
		case Q_CLASS:
			lookup_class(&lk, &q[i]);
			break;
		}
	}
	if (lk.json)
		fputs(lk.done ? "\n  ]}\n" : "]}\n", stdout);
	if (fflush(stdout) != 0 && status == PC_EXIT_OK) {
		perror("portcullis: lookup: stdout");
		status = PC_EXIT_SYSTEM;
	}
out:
	free(lk.table.cell);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	free(q);
	return status;
}
