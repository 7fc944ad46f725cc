/* SPDX-License-Identifier: MIT */
/*
 * portcullis lookup: service names (overlay, catalog, registry), ports and
 * port classes, as an aligned table or as JSON.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/catalog.h"
#include "cli/cli.h"
#include "registry/registry.h"
#include "common/util.h"
#include "cli/lookup_internal.h"

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
	      "Looks service names and ports up in the site overlays, the catalog of\n"
	      "common software and the IANA service registry (RFC 6335), in that\n"
	      "order, and says what `service NAME` opens by default and why.\n"
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
	      "  --names               print every service name of the overlays, the\n"
	      "                        catalog and the registry, aliases included, one\n"
	      "                        per line in lower case, sorted (shell completion);\n"
	      "                        takes no QUERY\n"
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
/* The queries                                                            */

struct lookup {
	const struct pc_registry *reg;
	const struct pc_catalog *cat;
	bool json;
	json_t *results;	/* with --json */
	size_t done;		/* queries printed so far */
	struct table table;
};

/* A new result object of --json, or NULL (table output). */
static json_t *begin_result(struct lookup *lk, const struct query *q, const char *type)
{
	json_t *o = NULL;

	if (lk->json) {
		o = json_object();
		json_object_set_new(o, "query", jstr(q->text));
		json_object_set_new(o, "type", jstr(type));
		json_array_append_new(lk->results, o);
	} else if (lk->done) {
		putchar('\n');
	}
	lk->done++;
	return o;
}

static const char *plural(size_t n)
{
	return n == 1 ? "entry" : "entries";
}

/* The catalog names that are aliases of @name, comma-separated, into @b. */
static void alias_names(const struct pc_catalog *cat, const char *name, struct pc_buf *b,
			json_t *arr)
{
	for (size_t i = 0; i < pc_catalog_count(cat); i++) {
		const struct pc_cat_record *r = pc_catalog_record(cat, i);

		if (!r->alias_of || strcasecmp(r->alias_of, name) != 0)
			continue;
		if (b)
			pc_buf_printf(b, "%s%s", b->len ? ", " : "", r->name);
		if (arr)
			json_array_append_new(arr, jstr(r->name));
	}
}

/* "22/tcp, 443/udp": the entries' ports on the transports of @mask. */
static void opened_ports(const struct pc_svc *s, unsigned mask, struct pc_buf *b, json_t *arr)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct pc_reg_entry *e = s->e[i];

		if (!e->has_port)
			continue;
		for (unsigned t = 0; t < __PC_TRANSPORT_MAX; t++) {
			char one[32];

			if (!(mask & (1u << t)) ||
			    (e->transport != t && e->transport != PC_REG_NO_TRANSPORT))
				continue;
			if (e->port_lo == e->port_hi)
				snprintf(one, sizeof(one), "%u/%s", e->port_lo, pc_transport_name(t));
			else
				snprintf(one, sizeof(one), "%u-%u/%s", e->port_lo, e->port_hi,
					 pc_transport_name(t));
			if (b && !strstr(b->data, one))
				pc_buf_printf(b, "%s%s", b->len ? ", " : "", one);
			if (arr)
				json_array_append_new(arr, jstr(one));
		}
	}
}

static void transport_names(unsigned mask, struct pc_buf *b, json_t *arr)
{
	for (unsigned t = 0; t < __PC_TRANSPORT_MAX; t++)
		if (mask & (1u << t)) {
			if (b)
				pc_buf_printf(b, "%s%s", b->len ? " " : "", pc_transport_name(t));
			if (arr)
				json_array_append_new(arr, jstr(pc_transport_name(t)));
		}
}

/* What `service NAME` means: where it comes from, what it opens and why. */
static void describe_name(struct lookup *lk, const struct query *q, const struct pc_svc *s,
			  json_t *o)
{
	const char *source = s->rec ? s->rec->source :
			     s->why == PC_SVC_WHY_PRACTICE ? s->practice_source : NULL;
	struct pc_buf b;

	if (o) {
		json_t *def = json_array(), *ts = json_array(), *al = json_array();

		json_object_set_new(o, "origin", jstr(pc_svc_origin_name(s->origin)));
		json_object_set_new(o, "service", jstr(s->name));
		json_object_set_new(o, "alias_of", jstr(s->alias ? s->name : NULL));
		json_object_set_new(o, "alias_source", jstr(s->alias ? s->alias->source : NULL));
		json_object_set_new(o, "source", jstr(source));
		transport_names(s->practice, NULL, ts);
		json_object_set_new(o, "default_transports", ts);
		json_object_set_new(o, "default_transports_why", jstr(pc_svc_why_name(s->why)));
		json_object_set_new(o, "practice_source",
				    jstr(s->why == PC_SVC_WHY_PRACTICE ? s->practice_source : NULL));
		opened_ports(s, s->practice, NULL, def);
		json_object_set_new(o, "opens_by_default", def);
		alias_names(lk->cat, s->name, NULL, al);
		json_object_set_new(o, "catalog_aliases", al);
		if (s->rec && s->rec->trap) {
			json_t *t = json_object();

			json_object_set_new(t, "when", jstr(pc_cat_trap_name(s->rec->trap)));
			json_object_set_new(t, "safer", jstr(s->rec->safer));
			json_object_set_new(o, "trap", t);
		} else {
			json_object_set_new(o, "trap", json_null());
		}
		if (s->rec && s->rec->n_protos) {
			json_t *p = json_array();

			for (unsigned i = 0; i < s->rec->n_protos; i++)
				json_array_append_new(p, jstr(pc_proto_name(s->rec->protos[i])));
			json_object_set_new(o, "ip_protocols", p);
		}
		return;
	}
	pc_buf_init(&b);
	pc_buf_add(&b, "", 0);
	if (s->alias)
		printf("  alias source: %s\n", s->alias->source);
	printf("  from the %s", s->origin == PC_SVC_OVERLAY ? "site overlay" :
	       pc_svc_origin_name(s->origin));
	if (s->rec)
		printf(": %s\n  source: %s\n", s->rec->description, s->rec->source);
	else
		putchar('\n');
	opened_ports(s, s->practice, &b, NULL);
	printf("  opens by default: %s", b.len ? b.data : "nothing (no port)");
	switch (s->why) {
	case PC_SVC_WHY_PRACTICE:
		printf(" (practice: %s)\n", s->practice_source);
		break;
	case PC_SVC_WHY_CATALOG:
		printf(" (catalog)\n");
		break;
	case PC_SVC_WHY_OVERLAY:
		printf(" (site overlay)\n");
		break;
	default:
		printf(" (registry: no practice entry, every registered tcp and udp port)\n");
		break;
	}
	b.len = 0;
	b.data[0] = '\0';
	alias_names(lk->cat, s->name, &b, NULL);
	if (b.len)
		printf("  aliases: %s\n", b.data);
	if (s->rec && s->rec->n_protos) {
		const char *p = pc_proto_name(s->rec->protos[0]);

		printf("  also needs IP protocol %u (%s), which is no port: 'proto %s'\n",
		       s->rec->protos[0], p ? p : "?", p ? p : "?");
	}
	if (s->rec && s->rec->trap)
		printf("  trap (%s): safer: %s\n",
		       s->rec->trap == PC_CAT_TRAP_EXPOSED ? "whenever let in" : "from any source",
		       s->rec->safer);
	pc_buf_finish(&b);
	(void)q;
}

/* Returns 0, or 1 for an unknown name. */
static int lookup_name(struct lookup *lk, const struct query *q)
{
	const struct pc_reg_entry **keep = NULL;
	struct pc_svc svc;
	bool known = pc_service_lookup(lk->reg, lk->cat, q->text, &svc);
	size_t kept = 0;
	int transport = -1;
	char *name = NULL;
	json_t *o;

	if (!known && strrchr(q->text, '/')) {
		/* NAME/PROTO, unless the name itself holds a slash (cl/1) */
		const char *slash = strrchr(q->text, '/');

		transport = pc_transport_parse(slash + 1);
		if (transport >= 0) {
			name = xstrndup(q->text, (size_t)(slash - q->text));
			known = pc_service_lookup(lk->reg, lk->cat, name, &svc);
		}
	}
	keep = xcalloc(svc.n ? svc.n : 1, sizeof(*keep));
	for (size_t i = 0; i < svc.n; i++)
		if (transport < 0 || svc.e[i]->transport == (unsigned)transport ||
		    svc.e[i]->transport == PC_REG_NO_TRANSPORT)
			keep[kept++] = svc.e[i];
	if (kept == 0 && known && transport >= 0) {
		/* the name is known, only not on that transport: nothing to suggest */
		o = begin_result(lk, q, "unknown");
		if (o)
			json_object_set_new(o, "suggestions", json_array());
		fprintf(stderr, "portcullis: lookup: service '%s' has no %s entry\n", name,
			pc_transport_name((unsigned)transport));
		free(keep);
		free(name);
		return 1;
	}
	if (kept == 0 && !(known && svc.rec && svc.rec->n_protos && transport < 0)) {
		const char *sugg[MAX_SUGGESTIONS];
		size_t ns = pc_service_suggest(lk->reg, lk->cat, name ? name : q->text, true,
					       sugg, MAX_SUGGESTIONS);

		o = begin_result(lk, q, "unknown");
		if (o) {
			json_t *a = json_array();

			for (size_t i = 0; i < ns; i++)
				json_array_append_new(a, jstr(sugg[i]));
			json_object_set_new(o, "suggestions", a);
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
	o = begin_result(lk, q, "name");
	if (o) {
		json_object_set_new(o, "entries", json_entries(keep, kept));
		describe_name(lk, q, &svc, o);
	} else {
		printf("%s: %zu %s", q->text, kept, plural(kept));
		if (svc.alias)
			printf(" (alias of %s)", svc.name);
		else if (keep[0] && (keep[0]->flags & PC_REG_ALIAS))
			printf(" (alias of %s)", keep[0]->name);
		fputs("\n", stdout);
		describe_name(lk, q, &svc, NULL);
		for (size_t i = 0; i < kept; i++)
			table_add_entry(&lk->table, keep[i]);
		if (kept)
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
	struct pc_buf cat = { 0 };
	json_t *o, *catj = json_array();
	size_t n = pc_registry_find_port(lk->reg, q->port, q->transport, NULL, 0);
	uint16_t lo, hi;

	e = xcalloc(n ? n : 1, sizeof(*e));
	pc_registry_find_port(lk->reg, q->port, q->transport, e, n);
	pc_port_class_range(c, &lo, &hi);
	o = begin_result(lk, q, "port");
	for (unsigned t = 0; t < __PC_TRANSPORT_MAX; t++) {
		const struct pc_cat_record *r;

		if (q->transport < __PC_TRANSPORT_MAX && t != q->transport)
			continue;
		r = pc_catalog_find_port(lk->cat, q->port, t);
		if (r && !strstr(cat.data ? cat.data : "", r->name)) {
			pc_buf_printf(&cat, "%s%s", cat.len ? ", " : "", r->name);
			if (o)
				json_array_append_new(catj, jstr(r->name));
		}
	}
	if (o) {
		json_object_set_new(o, "port", json_integer(q->port));
		json_object_set_new(o, "transport", jstr(q->transport < __PC_TRANSPORT_MAX ?
							 pc_transport_name(q->transport) : NULL));
		json_object_set_new(o, "class", jstr(pc_port_class_name(c)));
		json_object_set_new(o, "class_low", json_integer(lo));
		json_object_set_new(o, "class_high", json_integer(hi));
		json_object_set_new(o, "entries", json_entries(e, n));
		json_object_set_new(o, "catalog", catj);
		catj = NULL;
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
		if (cat.len)
			printf("in the catalog: %s\n", cat.data);
	}
	json_decref(catj);
	pc_buf_finish(&cat);
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
	json_t *o;

	pc_port_class_range(q->cls, &lo, &hi);
	total = pc_registry_count_range(lk->reg, lo, hi, counts);
	o = begin_result(lk, q, "class");
	if (o) {
		json_t *by = json_object();

		json_object_set_new(o, "class", jstr(pc_port_class_name(q->cls)));
		json_object_set_new(o, "low", json_integer(lo));
		json_object_set_new(o, "high", json_integer(hi));
		json_object_set_new(o, "entries", json_integer((json_int_t)total));
		for (unsigned s = 0; s < __PC_REG_STATUS_MAX; s++)
			json_object_set_new(by, pc_reg_status_name(s),
					    json_integer((json_int_t)counts[s]));
		json_object_set_new(o, "by_status", by);
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

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_name(char ***v, size_t *n, size_t *cap, const char *name)
{
	char *l;

	if (!name || !*name)
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	l = xstrdup(name);
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	(*v)[(*n)++] = l;
}

/* lookup --names: every name a policy may write, for shell completion. */
static void print_names(const struct pc_registry *reg)
{
	const struct pc_catalog *cat = pc_registry_catalog(reg);
	size_t n = 0, cap = 0;
	char **v = NULL;

	for (size_t i = 0; i < pc_registry_count(reg); i++) {
		const struct pc_reg_entry *e = pc_registry_entry(reg, i);

		add_name(&v, &n, &cap, e->name);
		for (const char *const *a = e->aliases; a && *a; a++)
			add_name(&v, &n, &cap, *a);
	}
	for (size_t i = 0; cat && i < pc_catalog_count(cat); i++)
		add_name(&v, &n, &cap, pc_catalog_record(cat, i)->name);
	qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			puts(v[i]);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int cmd_lookup(int argc, char **argv)
{
	enum { OPT_REGISTRY = 256, OPT_OVERLAY, OPT_NO_DEFAULT_OVERLAY, OPT_JSON, OPT_NAMES };
	static const struct option opts[] = {
		{ "registry", required_argument, NULL, OPT_REGISTRY },
		{ "overlay", required_argument, NULL, OPT_OVERLAY },
		{ "no-default-overlay", no_argument, NULL, OPT_NO_DEFAULT_OVERLAY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "names", no_argument, NULL, OPT_NAMES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro = { 0 };
	struct lookup lk = { 0 };
	struct pc_registry *reg = NULL;
	struct pc_diag *diag = NULL;
	struct query *q = NULL;
	int c, status = PC_EXIT_OK, nq;
	bool names = false;

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
		case OPT_NAMES:
			names = true;
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
	if (names) {
		if (nq > 0 || lk.json) {
			usage(stderr);
			return PC_EXIT_USAGE;
		}
		diag = pc_diag_create();
		reg = pc_cli_open_registry(&ro, diag, &status);
		if (reg)
			print_names(reg);
		goto out;
	}
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
	lk.cat = pc_registry_catalog(reg);
	if (lk.json)
		lk.results = json_array();
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
	if (lk.json) {
		json_t *root = json_object();

		json_object_set_new(root, "registry", jstr(pc_registry_source(reg)));
		json_object_set_new(root, "date", jstr(pc_registry_date(reg)));
		json_object_set_new(root, "catalog", jstr(pc_catalog_default_path()));
		json_object_set_new(root, "results", lk.results);
		lk.results = NULL;
		if (json_dumpf(root, stdout, JSON_INDENT(2)) == 0)
			putchar('\n');
		json_decref(root);
	}
	if (fflush(stdout) != 0 && status == PC_EXIT_OK) {
		perror("portcullis: lookup: stdout");
		status = PC_EXIT_SYSTEM;
	}
out:
	json_decref(lk.results);
	free(lk.table.cell);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	free(q);
	return status;
}
