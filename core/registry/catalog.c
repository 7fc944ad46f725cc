/* SPDX-License-Identifier: MIT */
/*
 * The catalog of common software, the practice table, and the lookup that
 * puts them between the site overlays and the IANA registry.
 */
#include "registry/catalog.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ir/names.h"
#include "common/util.h"

#define CATALOG_FIELDS 7
#define PRACTICE_FIELDS 3
#define MAX_FIELD 1024

struct practice {
	const char *name;
	unsigned mask;
	const char *source;
	unsigned line;
};

/* open addressing over lower-cased names: records and practice lines */
struct slot {
	uint32_t hash;
	uint32_t idx;   /* index + 1, 0 = empty */
};

/* One port range of a record, for pc_catalog_find_port(). */
struct port_ref {
	uint16_t lo, hi;
	uint8_t transport;
	uint32_t rec;
};

/* Ranges narrower than this are in the sorted index; wider ones are few. */
#define NARROW_SPAN 64

struct pc_catalog {
	struct pc_arena *arena;
	struct pc_cat_record *rec;
	size_t n_rec, cap_rec;
	struct practice *prac;
	size_t n_prac, cap_prac;
	struct slot *rec_slots, *prac_slots;
	uint32_t rec_mask, prac_mask;
	/*
	 * The records' port ranges: the narrow ones sorted by transport and
	 * first port, the wide ones (30000-32767, ...) in record order. A
	 * policy with 2,000 port literals looked each up in a scan of every
	 * record (4 % of `generate`, issue 15).
	 */
	struct port_ref *narrow, *wide;
	size_t n_narrow, n_wide;
};

struct pc_catalog *pc_catalog_create(void)
{
	struct pc_catalog *cat = xzalloc(sizeof(*cat));

	cat->arena = pc_arena_create();
	return cat;
}

void pc_catalog_destroy(struct pc_catalog *cat)
{
	if (!cat)
		return;
	free(cat->rec);
	free(cat->prac);
	free(cat->rec_slots);
	free(cat->prac_slots);
	free(cat->narrow);
	free(cat->wide);
	pc_arena_destroy(cat->arena);
	free(cat);
}

/* FNV-1a of the lower-cased name: names are case-insensitive */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 16777619u;
	}
	return h;
}

/*
 * Indexes the @n names of @v; a name already indexed is not indexed again
 * but handed to @dup (with the index of the first one), which may be NULL.
 */
static uint32_t table_build(struct slot **slots, size_t n, const char *(*key)(const void *, size_t),
			    const void *v, void (*dup)(void *, size_t, size_t), void *ctx)
{
	uint32_t size = 16;

	free(*slots);
	while (size < 2 * n)
		size *= 2;
	*slots = xcalloc(size, sizeof(**slots));
	for (size_t i = 0; i < n; i++) {
		uint32_t h = name_hash(key(v, i)), j;
		bool again = false;

		for (j = h & (size - 1); (*slots)[j].idx && !again; j = (j + 1) & (size - 1))
			again = (*slots)[j].hash == h &&
				strcasecmp(key(v, (*slots)[j].idx - 1), key(v, i)) == 0;
		if (again) {
			if (dup)
				dup(ctx, (*slots)[(j - 1) & (size - 1)].idx - 1, i);
			continue;
		}
		(*slots)[j].hash = h;
		(*slots)[j].idx = (uint32_t)i + 1;
	}
	return size - 1;
}

static const char *rec_key(const void *v, size_t i)
{
	return ((const struct pc_cat_record *)v)[i].name;
}

static const char *prac_key(const void *v, size_t i)
{
	return ((const struct practice *)v)[i].name;
}

/* Index + 1 of @name in a table, 0 if absent. */
static uint32_t table_find(const struct slot *slots, uint32_t mask, const char *name,
			   const char *(*key)(const void *, size_t), const void *v)
{
	uint32_t h, j;

	if (!slots)
		return 0;
	h = name_hash(name);
	for (j = h & mask; slots[j].idx; j = (j + 1) & mask)
		if (slots[j].hash == h && strcasecmp(key(v, slots[j].idx - 1), name) == 0)
			return slots[j].idx;
	return 0;
}

/* ---- loading ---------------------------------------------------------- */

struct load {
	struct pc_catalog *cat;
	struct pc_diag *diag;
	const char *path;
	const char *dpath;      /* the path as registered with the diagnostics */
	const char *text;
	size_t len;
	bool practice;          /* which file */
	unsigned line;          /* line being fed to the parser */
	unsigned rec_line;      /* first line of the record being parsed */
	char *field[CATALOG_FIELDS];
	size_t n_field;
	bool too_many;
	bool header_seen;
	unsigned errors;
};

static void load_error(struct load *l, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void load_error(struct load *l, unsigned line, const char *fmt, ...)
{
	struct pc_location loc = { .line = line, .col = 1 };
	va_list ap;

	va_start(ap, fmt);
	pc_reg_file_verror(l->diag, &l->dpath, l->path, l->text, l->len, &loc, fmt, ap);
	va_end(ap);
	l->errors++;
}

static void cb_field(void *s, size_t n, void *data)
{
	struct load *l = data;

	if (l->n_field == 0)
		l->rec_line = l->line;
	if (l->n_field >= CATALOG_FIELDS) {
		l->too_many = true;
		return;
	}
	l->field[l->n_field++] = xstrndup(s ? s : "", n);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool parse_u16(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "9090/tcp 8000-8100/udp proto:esp" into @r's entries and protocols. */
static bool parse_ports(struct load *l, struct pc_cat_record *r, const char *text)
{
	struct pc_reg_entry *ent[32];
	size_t n = 0;
	char *copy = xstrdup(text), *save = NULL;
	bool ok = true;

	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const char *slash = strchr(tok, '/'), *dash;
		struct pc_reg_entry *e;
		uint16_t lo, hi;
		int t;

		if (strncmp(tok, "proto:", 6) == 0) {
			int p = pc_proto_parse(tok + 6);

			if (p < 0 || isdigit((unsigned char)tok[6])) {
				load_error(l, l->rec_line, "%s: unknown IP protocol '%s'", r->name, tok + 6);
				ok = false;
			} else if (r->n_protos >= PC_CAT_MAX_PROTOS) {
				load_error(l, l->rec_line, "%s: more than %d protocols", r->name,
					   PC_CAT_MAX_PROTOS);
				ok = false;
			} else {
				r->protos[r->n_protos++] = (uint8_t)p;
			}
			continue;
		}
		if (!slash || (t = pc_transport_parse(slash + 1)) < 0) {
			load_error(l, l->rec_line,
				   "%s: '%s' is not PORT/TRANSPORT (tcp, udp, sctp or dccp)",
				   r->name, tok);
			ok = false;
			continue;
		}
		dash = memchr(tok, '-', (size_t)(slash - tok));
		if (dash ? !parse_u16(tok, (size_t)(dash - tok), &lo) ||
			   !parse_u16(dash + 1, (size_t)(slash - dash - 1), &hi) :
			   !parse_u16(tok, (size_t)(slash - tok), &lo)) {
			load_error(l, l->rec_line, "%s: port '%s' out of range 0-65535", r->name, tok);
			ok = false;
			continue;
		}
		if (!dash)
			hi = lo;
		if (lo > hi) {
			load_error(l, l->rec_line, "%s: reversed port range '%s'", r->name, tok);
			ok = false;
			continue;
		}
		if (n == PC_ARRAY_SIZE(ent)) {
			load_error(l, l->rec_line, "%s: too many ports", r->name);
			ok = false;
			break;
		}
		e = pc_arena_alloc(l->cat->arena, sizeof(*e));
		e->name = r->name;
		e->has_port = true;
		e->port_lo = lo;
		e->port_hi = hi;
		e->transport = (uint8_t)t;
		e->status = PC_REG_ASSIGNED;
		e->description = r->description;
		e->notes = "";
		e->unauthorized = "";
		e->file = l->path;
		e->line = l->rec_line;
		ent[n++] = e;
		r->transports |= 1u << t;
	}
	free(copy);
	if (ok && n == 0 && r->n_protos == 0) {
		load_error(l, l->rec_line, "%s: no ports and no alias_of", r->name);
		ok = false;
	}
	r->entries = pc_arena_memdup(l->cat->arena, ent, n * sizeof(ent[0]));
	r->n_entries = n;
	return ok;
}

static void catalog_record(struct load *l)
{
	struct pc_catalog *cat = l->cat;
	struct pc_cat_record r;
	char **f = l->field;

	memset(&r, 0, sizeof(r));
	if (!f[0][0] && !f[1][0] && !f[2][0])
		return;
	if (!valid_name(f[0])) {
		load_error(l, l->rec_line,
			   "bad name '%s' (lower-case letters, digits, '-', '_', '.')", f[0]);
		return;
	}
	r.name = pc_arena_strdup(cat->arena, f[0]);
	r.description = pc_arena_strdup(cat->arena, f[3]);
	r.source = pc_arena_strdup(cat->arena, f[4]);
	r.safer = pc_arena_strdup(cat->arena, f[6]);
	r.line = l->rec_line;
	if (!f[3][0] || !f[4][0]) {
		load_error(l, l->rec_line, "%s: every record needs a description and a source",
			   r.name);
		return;
	}
	if (!f[5][0])
		r.trap = PC_CAT_TRAP_NONE;
	else if (strcmp(f[5], "exposed") == 0)
		r.trap = PC_CAT_TRAP_EXPOSED;
	else if (strcmp(f[5], "public") == 0)
		r.trap = PC_CAT_TRAP_PUBLIC;
	else {
		load_error(l, l->rec_line, "%s: trap is 'exposed', 'public' or empty, not '%s'",
			   r.name, f[5]);
		return;
	}
	if (r.trap && !f[6][0]) {
		load_error(l, l->rec_line, "%s: a trap names the safer alternative", r.name);
		return;
	}
	if (f[2][0]) {
		if (f[1][0]) {
			load_error(l, l->rec_line, "%s: an alias has no ports of its own", r.name);
			return;
		}
		if (!valid_name(f[2])) {
			load_error(l, l->rec_line, "%s: bad alias_of '%s'", r.name, f[2]);
			return;
		}
		r.alias_of = pc_arena_strdup(cat->arena, f[2]);
	} else if (!parse_ports(l, &r, f[1])) {
		return;
	}
	cat->rec = xgrow(cat->rec, &cat->cap_rec, cat->n_rec + 1, sizeof(*cat->rec));
	cat->rec[cat->n_rec++] = r;
}

static void practice_record(struct load *l)
{
	struct pc_catalog *cat = l->cat;
	struct practice p = { 0 };
	char **f = l->field, *copy, *save = NULL;

	if (!valid_name(f[0])) {
		load_error(l, l->rec_line, "bad name '%s'", f[0]);
		return;
	}
	copy = xstrdup(f[1]);
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		int t = pc_transport_parse(tok);

		if (t < 0)
			load_error(l, l->rec_line, "%s: unknown transport '%s'", f[0], tok);
		else
			p.mask |= 1u << t;
	}
	free(copy);
	if (!p.mask) {
		load_error(l, l->rec_line, "%s: no transports", f[0]);
		return;
	}
	if (!f[2][0]) {
		load_error(l, l->rec_line, "%s: every line needs a source", f[0]);
		return;
	}
	p.name = pc_arena_strdup(cat->arena, f[0]);
	p.source = pc_arena_strdup(cat->arena, f[2]);
	p.line = l->rec_line;
	cat->prac = xgrow(cat->prac, &cat->cap_prac, cat->n_prac + 1, sizeof(*cat->prac));
	cat->prac[cat->n_prac++] = p;
}

static void cb_record(int c, void *data)
{
	struct load *l = data;
	size_t want = l->practice ? PRACTICE_FIELDS : CATALOG_FIELDS;
	static const char *const header[2] = {
		"name,ports,alias_of,description,source,trap,safer",
		"name,transports,source",
	};

	(void)c;
	if (l->n_field == 0)
		return;
	if (!l->header_seen) {
		char buf[128] = "";

		for (size_t i = 0; i < l->n_field; i++) {
			if (i)
				strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, l->field[i], sizeof(buf) - strlen(buf) - 1);
		}
		if (l->too_many || strcmp(buf, header[l->practice]) != 0)
			load_error(l, l->rec_line, "expected the header line '%s'",
				   header[l->practice]);
		l->header_seen = true;
	} else if (l->too_many || l->n_field != want) {
		load_error(l, l->rec_line, "expected %zu fields, found %s%zu", want,
			   l->too_many ? "more than " : "", l->n_field);
	} else if (l->practice) {
		practice_record(l);
	} else {
		catalog_record(l);
	}
	for (size_t i = 0; i < l->n_field; i++)
		free(l->field[i]);
	l->n_field = 0;
	l->too_many = false;
}

static void dup_record(void *ctx, size_t first, size_t again)
{
	struct load *l = ctx;

	load_error(l, l->cat->rec[again].line, "%s: already catalogued at line %u",
		   l->cat->rec[again].name, l->cat->rec[first].line);
}

static void dup_practice(void *ctx, size_t first, size_t again)
{
	struct load *l = ctx;

	load_error(l, l->cat->prac[again].line, "%s: listed twice (first at line %u)",
		   l->cat->prac[again].name, l->cat->prac[first].line);
}

static int load_file(struct pc_catalog *cat, const char *path, bool practice,
		     struct pc_diag *diag)
{
	struct load l = { .cat = cat, .diag = diag, .path = path, .practice = practice };
	struct csv_parser p;
	size_t len;
	char *text = pc_read_file(path, &len);
	const char *s, *end;

	if (!text) {
		struct pc_location loc = {
			.file = pc_diag_add_source(diag, path, "", 0),
		};

		pc_diag_error(diag, &loc, "cannot read the %s: %s",
			      practice ? "practice table" : "catalog", strerror(errno));
		return 3;
	}
	l.path = pc_arena_strdup(cat->arena, path);
	l.text = text;
	l.len = len;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		PC_BUG("csv_init");
	/* line by line: '#' lines are comments, which CSV has not */
	for (s = text, end = text + len; s < end && !l.errors; ) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);

		l.line++;
		if (l.n_field == 0 && (s[0] == '#' || s[0] == '\n')) {
			s += n;
			continue;
		}
		if (csv_parse(&p, s, n, cb_field, cb_record, &l) != n) {
			load_error(&l, l.line, "%s", csv_strerror(csv_error(&p)));
			break;
		}
		s += n;
	}
	if (!l.errors && csv_fini(&p, cb_field, cb_record, &l) != 0)
		load_error(&l, l.line, "%s", csv_strerror(csv_error(&p)));
	/* the index, which also finds names given twice */
	if (practice)
		cat->prac_mask = table_build(&cat->prac_slots, cat->n_prac, prac_key, cat->prac,
					     dup_practice, &l);
	else
		cat->rec_mask = table_build(&cat->rec_slots, cat->n_rec, rec_key, cat->rec,
					    dup_record, &l);
	for (size_t i = 0; i < l.n_field; i++)
		free(l.field[i]);
	csv_free(&p);
	free(text);
	return l.errors ? 1 : 0;
}

static int port_ref_cmp(const void *a, const void *b)
{
	const struct port_ref *x = a, *y = b;

	if (x->transport != y->transport)
		return x->transport < y->transport ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* The port index of pc_catalog_find_port(), made again after each load. */
static void ports_build(struct pc_catalog *cat)
{
	size_t n = 0;

	free(cat->narrow);
	free(cat->wide);
	cat->n_narrow = cat->n_wide = 0;
	for (size_t i = 0; i < cat->n_rec; i++)
		n += cat->rec[i].n_entries;
	cat->narrow = xcalloc(n ? n : 1, sizeof(*cat->narrow));
	cat->wide = xcalloc(n ? n : 1, sizeof(*cat->wide));
	for (size_t i = 0; i < cat->n_rec; i++)
		for (size_t j = 0; j < cat->rec[i].n_entries; j++) {
			const struct pc_reg_entry *e = cat->rec[i].entries[j];
			struct port_ref ref = { e->port_lo, e->port_hi, e->transport, (uint32_t)i };

			if (e->port_hi >= e->port_lo && e->port_hi - e->port_lo < NARROW_SPAN)
				cat->narrow[cat->n_narrow++] = ref;
			else
				cat->wide[cat->n_wide++] = ref;
		}
	qsort(cat->narrow, cat->n_narrow, sizeof(*cat->narrow), port_ref_cmp);
}

int pc_catalog_load(struct pc_catalog *cat, const char *catalog,
		    const char *practice, struct pc_diag *diag)
{
	int st = 0, s;

	if (catalog && (s = load_file(cat, catalog, false, diag)) > st)
		st = s;
	if (practice && (s = load_file(cat, practice, true, diag)) > st)
		st = s;
	ports_build(cat);
	return st;
}

/* ---- queries ---------------------------------------------------------- */

const struct pc_cat_record *pc_catalog_find(const struct pc_catalog *cat,
					    const char *name)
{
	uint32_t i;

	if (!cat)
		return NULL;
	i = table_find(cat->rec_slots, cat->rec_mask, name, rec_key, cat->rec);
	return i ? &cat->rec[i - 1] : NULL;
}

bool pc_catalog_practice(const struct pc_catalog *cat, const char *name,
			 unsigned *mask, const char **source)
{
	uint32_t i;

	if (!cat)
		return false;
	i = table_find(cat->prac_slots, cat->prac_mask, name, prac_key, cat->prac);
	if (!i)
		return false;
	*mask = cat->prac[i - 1].mask;
	*source = cat->prac[i - 1].source;
	return true;
}

size_t pc_catalog_count(const struct pc_catalog *cat)
{
	return cat ? cat->n_rec : 0;
}

const struct pc_cat_record *pc_catalog_record(const struct pc_catalog *cat, size_t i)
{
	return cat && i < cat->n_rec ? &cat->rec[i] : NULL;
}

size_t pc_catalog_practice_count(const struct pc_catalog *cat)
{
	return cat ? cat->n_prac : 0;
}

const char *pc_catalog_practice_name(const struct pc_catalog *cat, size_t i)
{
	return cat && i < cat->n_prac ? cat->prac[i].name : NULL;
}

const struct pc_cat_record *pc_catalog_find_port(const struct pc_catalog *cat,
						 uint16_t port, unsigned transport)
{
	/* the first record (in catalog order) with a range holding @port */
	size_t best = SIZE_MAX, lo = 0, hi;
	unsigned from = port >= NARROW_SPAN - 1 ? port - (NARROW_SPAN - 1) : 0;

	if (!cat)
		return NULL;
	for (size_t i = 0; i < cat->n_wide; i++) {
		const struct port_ref *w = &cat->wide[i];

		if (w->transport == transport && w->lo <= port && port <= w->hi) {
			best = w->rec;
			break;
		}
	}
	/* a narrow range holding @port starts at most NARROW_SPAN - 1 below it */
	hi = cat->n_narrow;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct port_ref *m = &cat->narrow[mid];

		if (m->transport < transport || (m->transport == transport && m->lo < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < cat->n_narrow; lo++) {
		const struct port_ref *m = &cat->narrow[lo];

		if (m->transport != transport || m->lo > port)
			break;
		if (port <= m->hi && m->rec < best)
			best = m->rec;
	}
	return best == SIZE_MAX ? NULL : &cat->rec[best];
}

/* @s lower-cased without '-', '_' and '.' into @buf (@n bytes). */
static void squash(const char *s, char *buf, size_t n)
{
	size_t k = 0;

	for (; *s && k + 1 < n; s++)
		if (*s != '-' && *s != '_' && *s != '.')
			buf[k++] = (char)tolower((unsigned char)*s);
	buf[k] = '\0';
}

/* @a starts with @b followed by the end or a separator. */
static bool word_prefix(const char *a, const char *b)
{
	size_t n = strlen(b);

	return n >= 4 && strncasecmp(a, b, n) == 0 &&
	       (a[n] == '\0' || a[n] == '-' || a[n] == '_' || a[n] == '.');
}

size_t pc_catalog_suggest(const struct pc_catalog *cat, const char *name,
			  const char **out, size_t max)
{
	char want[64], have[64];
	size_t k = 0;

	if (!cat || strlen(name) >= sizeof(want))
		return 0;
	squash(name, want, sizeof(want));
	/* same name written another way first, then the same software */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < cat->n_rec && k < max; i++) {
			const char *c = cat->rec[i].name;
			bool hit;

			squash(c, have, sizeof(have));
			hit = pass == 0 ? strcmp(want, have) == 0 :
				strcmp(want, have) != 0 &&
				(word_prefix(c, name) || word_prefix(name, c));
			if (hit)
				out[k++] = c;
		}
	return k;
}

size_t pc_catalog_suggest_spelling(const struct pc_catalog *cat, const char *name,
				   const char **out, size_t max)
{
	size_t k = 0, len = strlen(name);
	/* a typo or two in a long name, one in a short one */
	unsigned limit = len >= 8 ? 2 : 1;

	if (!cat || len > 63)
		return 0;
	for (unsigned d = 1; d <= limit; d++)
		for (size_t i = 0; i < cat->n_rec && k < max; i++)
			if (pc_edit_distance(name, cat->rec[i].name, limit) == d)
				out[k++] = cat->rec[i].name;
	return k;
}

size_t pc_service_suggest(const struct pc_registry *reg, const struct pc_catalog *cat,
			  const char *name, bool spelling, const char **out, size_t max)
{
	const char *r[8];
	size_t k = pc_catalog_suggest(cat, name, out, max), m;

	/* a name that means it hides names merely close in letters */
	if (k)
		return k;
	k = pc_catalog_suggest_spelling(cat, name, out, max);
	/* RFC 6335 names have at most 15 characters: nothing is close to a long one */
	if (!spelling || !reg || k >= max || strlen(name) > 32)
		return k;
	m = pc_registry_suggest(reg, name, r, max < PC_ARRAY_SIZE(r) ? max : PC_ARRAY_SIZE(r));
	for (size_t i = 0; i < m && k < max; i++) {
		bool dup = false;

		for (size_t j = 0; j < k; j++)
			dup |= strcasecmp(out[j], r[i]) == 0;
		if (!dup)
			out[k++] = r[i];
	}
	return k;
}

/* ---- lookup ----------------------------------------------------------- */

static unsigned entries_transports(const struct pc_reg_entry *const *e, size_t n)
{
	unsigned m = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i]->has_port)
			m |= e[i]->transport >= __PC_TRANSPORT_MAX ?
				(1u << __PC_TRANSPORT_MAX) - 1 : 1u << e[i]->transport;
	return m;
}

static bool lookup(const struct pc_registry *reg, const struct pc_catalog *cat,
		   const char *name, struct pc_svc *out, unsigned depth)
{
	const struct pc_reg_entry *const *e;
	const struct pc_cat_record *r;
	size_t n = reg ? pc_registry_find_name(reg, name, &e) : 0;

	/* the site decides first */
	if (n && (e[0]->flags & PC_REG_OVERLAY)) {
		out->origin = PC_SVC_OVERLAY;
		out->name = e[0]->name;
		out->e = e;
		out->n = n;
		out->practice = entries_transports(e, n);
		out->why = PC_SVC_WHY_OVERLAY;
		out->practice_source = e[0]->file;
		return true;
	}
	r = pc_catalog_find(cat, name);
	if (r && r->alias_of && depth < 4) {
		/* the target's meaning, with this alias remembered */
		if (!lookup(reg, cat, r->alias_of, out, depth + 1))
			return false;
		if (!out->alias)
			out->alias = r;
		return true;
	}
	if (r && !r->alias_of) {
		out->origin = PC_SVC_CATALOG;
		out->name = r->name;
		out->rec = r;
		out->e = r->entries;
		out->n = r->n_entries;
		out->practice = r->transports;
		out->why = PC_SVC_WHY_CATALOG;
		out->practice_source = r->source;
		return true;
	}
	if (!n)
		return false;
	out->origin = PC_SVC_REGISTRY;
	out->name = e[0]->name;
	out->e = e;
	out->n = n;
	if (pc_catalog_practice(cat, name, &out->practice, &out->practice_source) ||
	    pc_catalog_practice(cat, e[0]->name, &out->practice, &out->practice_source)) {
		out->why = PC_SVC_WHY_PRACTICE;
	} else {
		out->practice = 1u << PC_TRANSPORT_TCP | 1u << PC_TRANSPORT_UDP;
		out->why = PC_SVC_WHY_NONE;
	}
	return true;
}

bool pc_service_lookup(const struct pc_registry *reg, const struct pc_catalog *cat,
		       const char *name, struct pc_svc *out)
{
	memset(out, 0, sizeof(*out));
	if (lookup(reg, cat, name, out, 0))
		return true;
	memset(out, 0, sizeof(*out));
	return false;
}

const char *pc_svc_origin_name(unsigned origin)
{
	static const char *const names[] = {
		[PC_SVC_UNKNOWN] = "unknown",
		[PC_SVC_OVERLAY] = "overlay",
		[PC_SVC_CATALOG] = "catalog",
		[PC_SVC_REGISTRY] = "registry",
	};

	return origin < __PC_SVC_ORIGIN_MAX ? names[origin] : "?";
}

const char *pc_svc_why_name(unsigned why)
{
	static const char *const names[] = {
		[PC_SVC_WHY_NONE] = "registry",
		[PC_SVC_WHY_PRACTICE] = "practice",
		[PC_SVC_WHY_CATALOG] = "catalog",
		[PC_SVC_WHY_OVERLAY] = "overlay",
	};

	return why < __PC_SVC_WHY_MAX ? names[why] : "?";
}

const char *pc_cat_trap_name(unsigned trap)
{
	static const char *const names[] = {
		[PC_CAT_TRAP_NONE] = "",
		[PC_CAT_TRAP_EXPOSED] = "exposed",
		[PC_CAT_TRAP_PUBLIC] = "public",
	};

	return trap < __PC_CAT_TRAP_MAX ? names[trap] : "?";
}

/* ---- paths ------------------------------------------------------------ */

/* @file in the directory of the registry's default path. */
static const char *beside_registry(char *buf, size_t n, const char *file)
{
	const char *reg = pc_registry_default_path(), *slash = strrchr(reg, '/');
	int dir = slash ? (int)(slash - reg) : 1;

	snprintf(buf, n, "%.*s/%s", dir, slash ? reg : ".", file);
	return buf;
}

const char *pc_catalog_default_path(void)
{
	static char path[PATH_MAX];

	return path[0] ? path : beside_registry(path, sizeof(path), "catalog.csv");
}

const char *pc_practice_default_path(void)
{
	static char path[PATH_MAX];

	return path[0] ? path : beside_registry(path, sizeof(path), "practice.csv");
}
