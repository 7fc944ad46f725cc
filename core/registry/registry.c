/* SPDX-License-Identifier: MIT */
/*
 * The service registry: loading (IANA CSV through libcsv, /etc/services
 * format by hand) and the two indexes.
 *
 * Loading reads a file once, parses it straight into an entry array, and
 * copies the strings it keeps into one block per file. Nothing is indexed
 * until pc_registry_finish(), which builds
 *   - an open-addressing hash of case-folded names (aliases included), each
 *     slot pointing at a run of entries in file order, and
 *   - a port index: the port space cut into elementary segments at every
 *     range boundary, a 65536-entry port -> segment table, and per segment
 *     the entries covering it. Ranges barely overlap in the real registry,
 *     so the segment lists hold about one entry per record.
 *
 * The shipped registry is also compiled into the program as a finished
 * image (see "The compiled-in snapshot" below): a base load of a file
 * with exactly its bytes copies the image instead of parsing.
 */
#include "registry/registry.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/catalog.h"
#include "common/util.h"

#define IANA_FIELDS 12
#define SERVICES_PATH_SUFFIX "/service-names-port-numbers.csv"

enum iana_col {
	COL_NAME,
	COL_PORT,
	COL_TRANSPORT,
	COL_DESCRIPTION,
	COL_ASSIGNEE,
	COL_CONTACT,
	COL_REG_DATE,
	COL_MOD_DATE,
	COL_REFERENCE,
	COL_SERVICE_CODE,
	COL_UNAUTHORIZED,
	COL_NOTES,
};

/* Hash slots are small so that the table stays in cache. */
struct name_slot {
	uint32_t hash;
	uint32_t name;		/* 1 + index into reg->names; 0: empty */
};

struct name_info {
	const char *key;	/* the name as first written */
	uint32_t len;
	uint32_t layer;		/* highest layer that defines the name */
	uint32_t off;		/* run in reg->name_refs */
	uint32_t cnt;
};

/* A name (or alias) of an entry, in file order, while the index is built. */
struct name_ref {
	struct pc_reg_entry *e;
	const char *name;
	uint32_t hash, len;
	uint32_t layer;
	uint32_t slot;		/* index into reg->names; SAME_NAME: the previous ref's */
};

#define SAME_NAME UINT32_MAX

/* Internal: the entry is hidden by an overlay (never handed out). */
#define ENTRY_HIDDEN (1u << 7)

/* The entries of one loaded file. */
struct reg_file {
	struct pc_reg_entry *ent;
	size_t n;
	uint32_t layer;
};

/*
 * Big arrays (entries, strings, the index) come from a few large zeroed
 * chunks, sized for the most a file could need: calloc() hands out fresh
 * zero pages for them, so what a load does not use is never touched.
 */
struct big_chunk {
	struct big_chunk *next;
	char *base;
	size_t used, size;
};

struct pc_registry {
	struct pc_arena *arena;		/* paths, alias arrays, alias entries */
	struct big_chunk *big;		/* strings, entries, index */
	struct reg_file *files;
	size_t n_files, cap_files;
	size_t n_ent;
	uint32_t layer;
	const char *source;
	char date[16];
	bool finished;
	bool index_current;		/* the index covers every file loaded */
	bool thawed;			/* the base came from the snapshot */
	struct pc_catalog *catalog;	/* attached by pc_registry_set_catalog() */

	/*
	 * The index: built by pc_registry_finish() in the big chunks, or,
	 * for a thawed base, partly read where it lies in the snapshot image
	 * (hash slots and port segments), hence const.
	 */
	const struct name_slot *slots;
	uint32_t mask;
	const struct name_info *names;
	uint32_t n_names;
	const struct pc_reg_entry *const *name_refs;

	const uint16_t *seg_of;		/* port -> segment */
	const uint32_t *seg_lo;		/* first port of each segment */
	const uint32_t *seg_off;	/* n_seg + 1 offsets into seg_ent */
	uint32_t n_seg;
	const struct pc_reg_entry *const *seg_ent;
};

#define for_each_entry(reg, f, e)                                          \
	for (size_t f##_i = 0; f##_i < (reg)->n_files; f##_i++)               \
		for (const struct reg_file *f = &(reg)->files[f##_i]; f; f = NULL) \
			for (struct pc_reg_entry *e = f->ent; e < f->ent + f->n; e++)

#define BIG_CHUNK (4u << 20)

/* Zeroed, 64-byte aligned, freed with the registry. */
static void *big_alloc(struct pc_registry *reg, size_t n)
{
	struct big_chunk *c = reg->big;
	void *p;

	n = (n + 63) & ~(size_t)63;
	if (!c || c->size - c->used < n) {
		c = xzalloc(sizeof(*c));
		c->size = n > BIG_CHUNK ? n : BIG_CHUNK;
		c->base = xcalloc(1, c->size);
		c->next = reg->big;
		reg->big = c;
	}
	p = c->base + c->used;
	c->used += n;
	return p;
}

/* Shrinks @p, the last allocation, to @n bytes. */
static void big_trim(struct pc_registry *reg, void *p, size_t n)
{
	struct big_chunk *c = reg->big;

	if (c && (char *)p >= c->base && (char *)p < c->base + c->used)
		c->used = (size_t)((char *)p - c->base) + ((n + 63) & ~(size_t)63);
}

static inline unsigned char fold(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

/* FNV-1a over the case-folded bytes, folded to 32 bits. */
static inline uint32_t name_hash(const char *s, uint32_t *len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		h ^= fold(*p);
		h *= 0x100000001b3ull;
	}
	*len = (uint32_t)(p - (const unsigned char *)s);
	return (uint32_t)(h ^ (h >> 32));
}

static inline bool name_equal(const char *a, const char *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Small helpers shared by both formats                                   */

static const char *const transport_names[] = {
	[PC_TRANSPORT_TCP] = "tcp",
	[PC_TRANSPORT_UDP] = "udp",
	[PC_TRANSPORT_SCTP] = "sctp",
	[PC_TRANSPORT_DCCP] = "dccp",
};

const char *pc_transport_name(unsigned t)
{
	return t < __PC_TRANSPORT_MAX ? transport_names[t] : "any";
}

static int transport_parse_n(const char *s, size_t n)
{
	for (unsigned t = 0; t < __PC_TRANSPORT_MAX; t++) {
		const char *name = transport_names[t];
		size_t i;

		for (i = 0; i < n && name[i] == (char)fold((unsigned char)s[i]); i++)
			;
		if (i == n && name[i] == '\0')
			return (int)t;
	}
	return -1;
}

int pc_transport_parse(const char *s)
{
	return transport_parse_n(s, strlen(s));
}

unsigned pc_transport_proto(unsigned t)
{
	static const unsigned proto[] = {
		[PC_TRANSPORT_TCP] = 6,
		[PC_TRANSPORT_UDP] = 17,
		[PC_TRANSPORT_SCTP] = 132,
		[PC_TRANSPORT_DCCP] = 33,
	};

	return t < __PC_TRANSPORT_MAX ? proto[t] : 0;
}

const char *pc_reg_status_name(unsigned status)
{
	static const char *const names[] = {
		[PC_REG_ASSIGNED] = "assigned",
		[PC_REG_RESERVED] = "reserved",
		[PC_REG_UNASSIGNED] = "unassigned",
		[PC_REG_DEASSIGNED] = "de-assigned",
	};

	return status < __PC_REG_STATUS_MAX ? names[status] : "?";
}

static const char *const class_names[] = {
	[PC_PORT_SYSTEM] = "system",
	[PC_PORT_USER] = "user",
	[PC_PORT_DYNAMIC] = "dynamic",
};

enum pc_port_class pc_port_class_of(uint16_t port)
{
	if (port < 1024)
		return PC_PORT_SYSTEM;
	if (port < 49152)
		return PC_PORT_USER;
	return PC_PORT_DYNAMIC;
}

const char *pc_port_class_name(enum pc_port_class c)
{
	return (unsigned)c < __PC_PORT_CLASS_MAX ? class_names[c] : "?";
}

int pc_port_class_parse(const char *name)
{
	for (unsigned c = 0; c < __PC_PORT_CLASS_MAX; c++)
		if (strcmp(name, class_names[c]) == 0)
			return (int)c;
	return -1;
}

void pc_port_class_range(enum pc_port_class c, uint16_t *lo, uint16_t *hi)
{
	static const uint16_t range[][2] = {
		[PC_PORT_SYSTEM] = { 0, 1023 },
		[PC_PORT_USER] = { 1024, 49151 },
		[PC_PORT_DYNAMIC] = { 49152, 65535 },
	};

	if ((unsigned)c >= __PC_PORT_CLASS_MAX)
		PC_BUG("port class %d", (int)c);
	*lo = range[c][0];
	*hi = range[c][1];
}

const char *pc_registry_default_path(void)
{
	static char path[PATH_MAX];
	const char *dir = getenv("PORTCULLIS_DATADIR");

	if (!dir || !*dir)
		dir = PC_DATADIR;
	snprintf(path, sizeof(path), "%s%s", dir, SERVICES_PATH_SUFFIX);
	return path;
}

enum port_err {
	PORT_OK,
	PORT_BAD,
	PORT_BAD_RANGE,
	PORT_REVERSED,
};

static bool parse_u16(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "N" or "N-M". */
static enum port_err parse_ports(const char *s, size_t n, uint16_t *lo, uint16_t *hi)
{
	const char *dash = memchr(s, '-', n);

	if (!dash) {
		if (!parse_u16(s, n, lo))
			return PORT_BAD;
		*hi = *lo;
		return PORT_OK;
	}
	if (!parse_u16(s, (size_t)(dash - s), lo) ||
	    !parse_u16(dash + 1, n - (size_t)(dash - s) - 1, hi))
		return PORT_BAD_RANGE;
	if (*lo > *hi)
		return PORT_REVERSED;
	return PORT_OK;
}

static const char *port_err_text(enum port_err e)
{
	switch (e) {
	case PORT_BAD:
		return "bad port";
	case PORT_BAD_RANGE:
		return "bad port range";
	case PORT_REVERSED:
		return "reversed port range";
	case PORT_OK:
		break;
	}
	return "?";
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

/* State of one pc_registry_load(). */
struct load {
	struct pc_registry *reg;
	struct pc_diag *diag;
	const char *path;	/* the caller's, for messages before dpath */
	const char *dpath;	/* the diag's copy of path (source registered) */
	const char *epath;	/* the arena's copy, stored in entries */
	const char *text;
	size_t len;
	char *block;		/* strings of this file */
	size_t block_used;
	struct pc_reg_entry *ent;	/* entries of this file */
	size_t n_ent, cap_ent;
	bool overlay;
	unsigned errors;

	/* CSV record being read */
	const char *sc;		/* start of the next record (scan_next_record) */
	unsigned line;		/* line of sc */
	unsigned rec_line;	/* first line of the current record */
	const char *rec_ptr;
	bool header_done;
	unsigned field;
	struct pc_reg_entry cur;
	enum port_err port_err;
	bool bad_transport;
	char port_text[24];
	char transport_text[24];
	char mod_date[16];
	const char *prev_name;
	size_t prev_len;
};

static const char *block_copy(struct load *l, const char *s, size_t n)
{
	char *p;

	if (n == 0)
		return "";
	if (l->block_used + n + 1 > l->len + 64)
		PC_BUG("string block overflow in %s", l->path);
	p = l->block + l->block_used;
	memcpy(p, s, n);
	p[n] = '\0';
	l->block_used += n + 1;
	return p;
}

static struct pc_reg_entry *entry_add(struct load *l)
{
	/* sized by the smallest record the format allows */
	if (l->n_ent == l->cap_ent)
		PC_BUG("more records than bytes allow in %s", l->path);
	return &l->ent[l->n_ent++];
}

static void load_error(struct load *l, unsigned line, unsigned col, unsigned len,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void load_error(struct load *l, unsigned line, unsigned col, unsigned len,
		       const char *fmt, ...)
{
	struct pc_location loc = { .line = line, .col = col, .len = len };
	va_list ap;

	if (!l->dpath)
		l->dpath = pc_diag_add_source(l->diag, l->path, l->text, l->len);
	loc.file = l->dpath;
	va_start(ap, fmt);
	pc_diag_vreport(l->diag, PC_SEV_ERROR, &loc, fmt, ap);
	va_end(ap);
	l->errors++;
}

/*
 * Column (1-based) and length of CSV field @idx on the line at @p, or 0
 * when the field does not start on that line.
 */
static unsigned csv_field_col(const char *p, const char *end, unsigned idx,
			      unsigned *len)
{
	const char *start = p;
	bool quoted = false;
	unsigned f = 0;

	*len = 0;
	for (; p < end && *p != '\n'; p++) {
		if (f == idx)
			break;
		if (*p == '"')
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			f++;
	}
	if (f != idx || p >= end || (*p == '\n' && p > start && p[-1] != ','))
		return 0;
	for (const char *q = p; q < end && *q != '\n' && *q != '\r' && *q != ','; q++)
		(*len)++;
	return (unsigned)(p - start) + 1;
}

static void csv_field_error(struct load *l, unsigned idx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void csv_field_error(struct load *l, unsigned idx, const char *fmt, ...)
{
	unsigned len, col = csv_field_col(l->rec_ptr, l->text + l->len, idx, &len);
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	load_error(l, l->rec_line, col, len, "%s", msg);
}

static void csv_cb_field(void *s, size_t n, void *data)
{
	struct load *l = data;
	const char *f = s;

	switch (l->field) {
	case COL_NAME:
		/* a name's records follow each other (tcp, udp): share the copy */
		if (n && n == l->prev_len && memcmp(l->prev_name, f, n) == 0)
			l->cur.name = l->prev_name;
		else
			l->cur.name = n ? block_copy(l, f, n) : NULL;
		if (n) {
			l->prev_name = l->cur.name;
			l->prev_len = n;
		}
		break;
	case COL_PORT:
		if (n == 0) {
			l->cur.has_port = false;
			break;
		}
		l->cur.has_port = true;
		l->port_err = parse_ports(f, n, &l->cur.port_lo, &l->cur.port_hi);
		if (l->port_err)
			snprintf(l->port_text, sizeof(l->port_text), "%.*s",
				 (int)(n < 20 ? n : 20), f);
		break;
	case COL_TRANSPORT:
		if (n == 0) {
			l->cur.transport = PC_REG_NO_TRANSPORT;
		} else {
			int t = transport_parse_n(f, n);

			if (t < 0) {
				l->bad_transport = true;
				snprintf(l->transport_text, sizeof(l->transport_text),
					 "%.*s", (int)(n < 20 ? n : 20), f);
			} else {
				l->cur.transport = (uint8_t)t;
			}
		}
		break;
	case COL_DESCRIPTION:
		l->cur.description = block_copy(l, f, n);
		break;
	case COL_MOD_DATE:
		if (n && n < sizeof(l->mod_date) && !l->overlay) {
			/* ISO dates (YYYY-MM or YYYY-MM-DD) compare as strings */
			char d[16];

			memcpy(d, f, n);
			d[n] = '\0';
			if (strcmp(d, l->mod_date) > 0)
				memcpy(l->mod_date, d, n + 1);
		}
		break;
	case COL_UNAUTHORIZED:
		l->cur.unauthorized = block_copy(l, f, n);
		break;
	case COL_NOTES:
		l->cur.notes = block_copy(l, f, n);
		break;
	default:
		break;
	}
	l->field++;
}

/* Case-insensitive substring search for a lowercase @needle. */
/* The header row: only counted. */
static void csv_cb_header_field(void *s, size_t n, void *data)
{
	struct load *l = data;

	(void)s;
	(void)n;
	l->field++;
}

static bool has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; *p; p++)
		if (fold((unsigned char)*p) == needle[0] && strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/*
 * The registry writes de-assignment in the notes or the description of the
 * unnamed record left behind ("De-assigned on 2025-02-13, previously
 * compressnet", "De-Assigned on ...", "Deassigned"). This runs on every
 * record: a strstr() for "ssign" / "SSIGN" rules out nearly all first.
 */
static bool mentions_assign(const char *s)
{
	return s[0] && (strstr(s, "ssign") || strstr(s, "SSIGN"));
}

static uint8_t iana_status(const struct pc_reg_entry *e)
{
	const char *d = e->description, *n = e->notes;

	if (((!e->name && mentions_assign(d)) || mentions_assign(n)) &&
	    (has_ci(d, "de-assigned") || has_ci(n, "de-assigned") ||
	     has_ci(d, "deassigned") || has_ci(n, "deassigned")) &&
	    !has_ci(n, "re-assigned"))
		return PC_REG_DEASSIGNED;
	if (!e->name && (strcasecmp(d, "De-registered") == 0 ||
			 strcasecmp(d, "Removed") == 0))
		return PC_REG_DEASSIGNED;
	if (fold((unsigned char)d[0]) == 'r' && strncasecmp(d, "Reserved", 8) == 0)
		return PC_REG_RESERVED;
	if (fold((unsigned char)d[0]) == 'u' && strncasecmp(d, "Unassigned", 10) == 0)
		return PC_REG_UNASSIGNED;
	return PC_REG_ASSIGNED;
}

static void csv_reset_record(struct load *l)
{
	memset(&l->cur, 0, sizeof(l->cur));
	l->cur.description = "";
	l->cur.notes = "";
	l->cur.unauthorized = "";
	l->cur.transport = PC_REG_NO_TRANSPORT;
	l->port_err = PORT_OK;
	l->bad_transport = false;
	l->field = 0;
}

/*
 * Line numbers: libcsv does not tell where a record starts, so a cursor
 * (l->sc) walks the text beside it, one record per callback: past blank
 * lines (libcsv reports none for them), then to the first newline outside
 * quotes. In strict mode that is exactly where libcsv ends the record.
 */
static void scan_skip_blank(struct load *l)
{
	const char *end = l->text + l->len;

	while (l->sc < end) {
		const char *p = l->sc;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == end || *p != '\n')
			break;
		l->sc = p + 1;
		l->line++;
	}
}

static void scan_next_record(struct load *l)
{
	const char *end = l->text + l->len, *p = l->sc;
	bool quoted = false;

	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lim = nl ? nl : end;

		for (const char *q = p; (q = memchr(q, '"', (size_t)(lim - q))); q++)
			quoted = !quoted;
		if (!nl) {
			l->sc = end;
			return;
		}
		l->line++;
		p = nl + 1;
		if (!quoted)
			break;
	}
	l->sc = p;
}

static void csv_cb_record(int c, void *data)
{
	struct load *l = data;
	struct pc_reg_entry *e;

	(void)c;
	scan_skip_blank(l);
	l->rec_line = l->line;
	l->rec_ptr = l->sc;
	scan_next_record(l);
	if (!l->header_done) {
		if (l->field != IANA_FIELDS)
			load_error(l, l->rec_line, 0, 0,
				   "IANA CSV header has %u columns, expected %d",
				   l->field, IANA_FIELDS);
		l->header_done = true;
		csv_reset_record(l);
		return;
	}
	if (l->errors && pc_diag_full(l->diag)) {
		csv_reset_record(l);
		return;
	}
	if (l->field != IANA_FIELDS) {
		const char *end = l->text + l->len, *eol = l->rec_ptr;

		while (eol < end && *eol != '\n' && *eol != '\r')
			eol++;
		load_error(l, l->rec_line, 1, (unsigned)(eol - l->rec_ptr),
			   "wrong column count: %u fields, expected %d",
			   l->field, IANA_FIELDS);
	} else if (l->port_err) {
		csv_field_error(l, COL_PORT, "%s '%s'", port_err_text(l->port_err),
				l->port_text);
	} else if (l->bad_transport) {
		csv_field_error(l, COL_TRANSPORT, "unknown transport '%s'",
				l->transport_text);
	} else if (!l->cur.name && !l->cur.has_port) {
		load_error(l, l->rec_line, 0, 0,
			   "record has neither a service name nor a port");
	} else if (!l->errors) {
		e = entry_add(l);
		*e = l->cur;
		e->status = iana_status(e);
		if (e->unauthorized[0])
			e->flags |= PC_REG_UNAUTHORIZED;
		if (l->overlay)
			e->flags |= PC_REG_OVERLAY;
		e->file = l->epath;
		e->line = l->rec_line;
	}
	csv_reset_record(l);
}

static void load_csv(struct load *l)
{
	struct csv_parser p;
	const char *s = l->text, *end = l->text + l->len, *nl;
	size_t n, done;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		PC_BUG("csv_init");
	if (l->len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	csv_reset_record(l);
	l->line = 1;
	l->sc = s;
	/* the header line (detect_format() saw it), then the rest at once */
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
	done = csv_parse(&p, s, n, csv_cb_header_field, csv_cb_record, l);
	if (done == n && n < (size_t)(end - s))
		done += csv_parse(&p, s + n, (size_t)(end - s) - n, csv_cb_field,
				  csv_cb_record, l);
	if (done != (size_t)(end - s)) {
		unsigned line = l->line;

		if (csv_error(&p) == CSV_ENOMEM)
			PC_BUG("libcsv: out of memory");
		for (const char *q = l->sc; q < s + done; q++)
			line += *q == '\n';
		load_error(l, line, 0, 0, "malformed CSV: stray or unbalanced quote");
		goto out;
	}
	if (csv_fini(&p, l->header_done ? csv_cb_field : csv_cb_header_field,
		     csv_cb_record, l) != 0) {
		scan_skip_blank(l);
		load_error(l, l->line, 0, 0,
			   "malformed CSV: quoted field not terminated at end of file");
	}
out:
	csv_free(&p);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

#define MAX_TOKENS 64

/* name port/proto [alias...] [# comment]; the comment is the description. */
static void load_services(struct load *l)
{
	const char *s = l->text, *end = l->text + l->len;
	struct pc_registry *reg = l->reg;

	if (l->len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (unsigned line = 1; s < end; line++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		const char *hash = memchr(s, '#', (size_t)(eol - s));
		const char *dend = hash ? hash : eol;
		const char *tok[MAX_TOKENS];
		size_t tlen[MAX_TOKENS], ntok = 0;
		const char *p = s, *slash, *desc = "";
		uint16_t lo, hi;
		enum port_err perr;
		int t;
		struct pc_reg_entry *e;
		const char **aliases = NULL;

		if (l->errors && pc_diag_full(l->diag))
			break;
		while (p < dend) {
			while (p < dend && is_blank(*p))
				p++;
			if (p >= dend)
				break;
			if (ntok == MAX_TOKENS) {
				load_error(l, line, (unsigned)(p - s) + 1, 1,
					   "too many aliases (at most %d)",
					   MAX_TOKENS - 2);
				goto next;
			}
			tok[ntok] = p;
			while (p < dend && !is_blank(*p))
				p++;
			tlen[ntok] = (size_t)(p - tok[ntok]);
			ntok++;
		}
		if (ntok == 0)
			goto next;
		if (ntok == 1) {
			load_error(l, line, (unsigned)(tok[0] - s) + 1, (unsigned)tlen[0],
				   "wrong column count: expected 'NAME PORT/PROTOCOL [ALIAS...]'");
			goto next;
		}
		slash = memchr(tok[1], '/', tlen[1]);
		if (!slash) {
			load_error(l, line, (unsigned)(tok[1] - s) + 1, (unsigned)tlen[1],
				   "expected PORT/PROTOCOL, found '%.*s'",
				   (int)(tlen[1] < 40 ? tlen[1] : 40), tok[1]);
			goto next;
		}
		perr = parse_ports(tok[1], (size_t)(slash - tok[1]), &lo, &hi);
		if (perr) {
			load_error(l, line, (unsigned)(tok[1] - s) + 1,
				   (unsigned)(slash - tok[1]), "%s '%.*s'",
				   port_err_text(perr),
				   (int)(slash - tok[1] < 40 ? slash - tok[1] : 40), tok[1]);
			goto next;
		}
		t = transport_parse_n(slash + 1, tlen[1] - (size_t)(slash - tok[1]) - 1);
		/*
		 * Debian's own /etc/services lists AppleTalk's ddp (rtmp 1/ddp):
		 * a real protocol, not an IP transport. Such lines are skipped;
		 * anything else is a mistake.
		 */
		if (t < 0 && tlen[1] - (size_t)(slash - tok[1]) - 1 == 3 &&
		    strncasecmp(slash + 1, "ddp", 3) == 0)
			goto next;
		if (t < 0) {
			size_t n = tlen[1] - (size_t)(slash - tok[1]) - 1;

			load_error(l, line, (unsigned)(slash - s) + 2, (unsigned)n,
				   "unknown transport '%.*s'", (int)(n < 40 ? n : 40),
				   slash + 1);
			goto next;
		}
		if (l->errors)
			goto next;
		if (hash) {
			const char *d = hash + 1, *de = eol;

			while (d < de && is_blank(*d))
				d++;
			while (de > d && is_blank(de[-1]))
				de--;
			desc = block_copy(l, d, (size_t)(de - d));
		}
		if (ntok > 2) {
			aliases = pc_arena_alloc(reg->arena, (ntok - 1) * sizeof(*aliases));
			for (size_t i = 2; i < ntok; i++)
				aliases[i - 2] = block_copy(l, tok[i], tlen[i]);
		}
		e = entry_add(l);
		memset(e, 0, sizeof(*e));
		e->name = block_copy(l, tok[0], tlen[0]);
		e->has_port = true;
		e->port_lo = lo;
		e->port_hi = hi;
		e->transport = (uint8_t)t;
		e->status = PC_REG_ASSIGNED;
		e->flags = l->overlay ? PC_REG_OVERLAY : 0;
		e->description = desc;
		e->notes = "";
		e->unauthorized = "";
		e->aliases = aliases;
		e->file = l->epath;
		e->line = line;
next:
		s = eol + 1;
	}
}

enum format {
	FMT_NONE,
	FMT_IANA,
	FMT_SERVICES,
};

static const char iana_header[] = "Service Name,Port Number,Transport Protocol";

/*
 * By content: the IANA header, or /etc/services lines (the first line that
 * is not blank or a comment reads NAME PORT/...). NUL or other control bytes
 * mean a binary file.
 */
static enum format detect_format(const char *s, size_t n)
{
	const char *end = s + n;

	if (memchr(s, '\0', n))
		return FMT_NONE;
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	if ((size_t)(end - s) >= sizeof(iana_header) - 1 &&
	    strncasecmp(s, iana_header, sizeof(iana_header) - 1) == 0)
		return FMT_IANA;
	for (const char *p = s; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != '\n' && !is_blank((char)c)) || c == 0x7f)
			return FMT_NONE;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end, *p = s;

		while (p < eol && is_blank(*p))
			p++;
		if (p < eol && *p != '#') {
			while (p < eol && !is_blank(*p))
				p++;
			while (p < eol && is_blank(*p))
				p++;
			return p < eol && *p >= '0' && *p <= '9' ? FMT_SERVICES : FMT_NONE;
		}
		s = eol + 1;
	}
	return FMT_SERVICES;	/* only comments: an empty overlay */
}

/* ---------------------------------------------------------------------- */
/* The compiled-in snapshot                                               */

/*
 * Parsing the shipped IANA CSV costs about 5 ms in a fresh process, a
 * third of a `generate`. The build therefore runs core/regsnap.c, which
 * loads and indexes that file the normal way and writes the finished
 * registry as one relocation-free image: every string an offset from the
 * start of the image (0: NULL), every entry pointer an entry index. The
 * program links the image in and hands it to pc_registry_set_snapshot().
 * A base load whose file has exactly the bytes the image was made from
 * (same length, same 64-bit content hash) "thaws" the image instead of
 * parsing (snapshot_thaw()). The check is by content, not by date: an
 * edited file, or another one, is parsed as before.
 *
 * The image's layout is fixed by the structures below, whose sizes are
 * asserted at compile time and recorded in the header: an image written
 * by another build (another version or struct layout) is ignored.
 */
#define SNAP_MAGIC "PCREGSN\0"
#define SNAP_VERSION 3u

enum snap_section {
	SEC_FILES,		/* struct snap_file */
	SEC_ENT,		/* struct snap_entry */
	SEC_STR,		/* NUL-terminated strings, deduplicated */
	SEC_SLOTS,		/* struct name_slot, as built */
	SEC_NAMES,		/* struct snap_name */
	SEC_SEG_OF,		/* uint16_t, as built */
	SEC_SEG_LO,		/* uint32_t, as built */
	SEC_SEG_OFF,		/* uint32_t, as built */
	SEC_NAME_REFS,		/* uint32_t entry indices */
	SEC_SEG_ENT,		/* uint32_t entry indices */
	__SEC_MAX
};

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t entry_size;	/* sizeof(struct snap_entry) */
	uint32_t name_size;	/* sizeof(struct snap_name) */
	uint32_t header_size;
	uint64_t image_len;
	uint64_t csv_len;
	uint64_t csv_hash;
	uint32_t n_files, n_ent;
	uint32_t n_names, mask;
	uint32_t n_seg, n_name_refs;
	uint32_t n_seg_ent, pad;
	char date[16];
	struct {
		uint64_t off, size;
	} sec[__SEC_MAX];
};

/* An entry: strings as offsets from the image start (0: NULL). */
struct snap_entry {
	uint32_t name, description, notes, unauthorized;
	uint32_t line;
	uint16_t port_lo, port_hi;
	uint8_t has_port, transport, status, flags;
};

/* A struct name_info with its key as an offset from the image start. */
struct snap_name {
	uint32_t key, len, layer, off, cnt;
};

struct snap_file {
	uint32_t first;		/* index of its first entry */
	uint32_t n;
	uint32_t layer;
	uint32_t pad;
};

/* No padding anywhere: the image is the same bytes on every build of one layout. */
_Static_assert(sizeof(struct snap_header) == 256, "snapshot header layout");
_Static_assert(sizeof(struct snap_entry) == 28, "snapshot entry layout");
_Static_assert(sizeof(struct snap_name) == 20, "snapshot name layout");
_Static_assert(sizeof(struct snap_file) == 16, "snapshot file layout");
_Static_assert(sizeof(struct name_slot) == 8, "name slots are used in place");
/* the sections used in place are 8-aligned in an image aligned to 64 */
_Static_assert(_Alignof(struct name_slot) <= 8 && _Alignof(uint32_t) <= 8,
	       "snapshot section alignment");

static const unsigned char *snap_image;
static size_t snap_len;

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#define HP1 0x9e3779b185ebca87ull
#define HP2 0xc2b2ae3d27d4eb4full
#define HP3 0x165667b19e3779f9ull

static inline uint64_t hash_round(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * HP2, 31) * HP1;
}

/*
 * 64-bit hash of @n bytes: four independent multiply-rotate lanes over
 * 8-byte words (the CPU overlaps their multiplies: the 1.15 MB registry in
 * about 50 us on the project VM), the tail folded in, then an avalanche so that every input bit reaches
 * every output bit. Not cryptographic: it tells the shipped file from an
 * edited one, it is not meant to resist someone forging a collision.
 */
struct hash_state {
	uint64_t a, b, c, d;
};

static void hash_init(struct hash_state *s)
{
	*s = (struct hash_state){ HP1 + HP2, HP2, 0, 0 - HP1 };
}

/* Feeds the 32-byte blocks of @p; returns how many bytes that was. */
static size_t hash_blocks(struct hash_state *s, const unsigned char *p, size_t n)
{
	size_t done = n & ~(size_t)31;

	for (const unsigned char *end = p + done; p < end; p += 32) {
		s->a = hash_round(s->a, load64(p));
		s->b = hash_round(s->b, load64(p + 8));
		s->c = hash_round(s->c, load64(p + 16));
		s->d = hash_round(s->d, load64(p + 24));
	}
	return done;
}

/* The hash of everything fed plus the last @n (< 32) bytes at @p; @total
 * is the length of the whole input. */
static uint64_t hash_final(const struct hash_state *s, const unsigned char *p,
			   size_t n, uint64_t total)
{
	const unsigned char *end = p + n;
	uint64_t h;

	h = rotl64(s->a, 1) + rotl64(s->b, 7) + rotl64(s->c, 12) + rotl64(s->d, 18) + total;
	for (; end - p >= 8; p += 8)
		h = rotl64(h ^ hash_round(0, load64(p)), 27) * HP1 + HP3;
	for (; p < end; p++)
		h = rotl64(h ^ (*p * HP3), 11) * HP1;
	h ^= h >> 33;
	h *= HP2;
	h ^= h >> 29;
	h *= HP3;
	h ^= h >> 32;
	return h;
}

static uint64_t content_hash(const void *data, size_t n)
{
	struct hash_state s;
	size_t done;

	hash_init(&s);
	done = hash_blocks(&s, data, n);
	return hash_final(&s, (const unsigned char *)data + done, n - done, n);
}

/*
 * True when the regular file @path has @len bytes hashing to @hash: read
 * through one small buffer that stays in the cache, not into fresh memory
 * (on the VMs measured, memory touched for the first time costs more than
 * reading and hashing it).
 */
#define HASH_BUF (64u << 10)    /* a multiple of the 32-byte block */

static bool file_has_content(const char *path, uint64_t len, uint64_t hash)
{
	unsigned char *buf;
	struct hash_state s;
	struct stat st;
	uint64_t total = 0;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len) {
		close(fd);
		return false;
	}
	hash_init(&s);
	buf = xmalloc(HASH_BUF);
	/* full buffers are whole 32-byte blocks; the last one has the tail */
	for (;;) {
		ssize_t got = pc_read_full(fd, buf, HASH_BUF);
		size_t done;

		if (got < 0)
			break;
		total += (size_t)got;
		done = hash_blocks(&s, buf, (size_t)got);
		if ((size_t)got < HASH_BUF) {
			same = total == len &&
			       hash_final(&s, buf + done, (size_t)got - done, total) == hash;
			break;
		}
	}
	free(buf);
	close(fd);
	return same;
}

/* A header this build can thaw (the sections are within the image). */
static bool snap_header_ok(const void *image, size_t len, struct snap_header *h)
{
	if (!image || len < sizeof(*h))
		return false;
	memcpy(h, image, sizeof(*h));
	if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != SNAP_VERSION ||
	    h->entry_size != sizeof(struct snap_entry) ||
	    h->name_size != sizeof(struct snap_name) || h->header_size != sizeof(*h) ||
	    h->image_len != len)
		return false;
	for (unsigned s = 0; s < __SEC_MAX; s++)
		if (h->sec[s].off > len || h->sec[s].size > len - h->sec[s].off ||
		    h->sec[s].off % 8)
			return false;
	return h->sec[SEC_FILES].size == (uint64_t)h->n_files * sizeof(struct snap_file) &&
	       h->sec[SEC_ENT].size == (uint64_t)h->n_ent * sizeof(struct snap_entry) &&
	       h->sec[SEC_SLOTS].size == ((uint64_t)h->mask + 1) * sizeof(struct name_slot) &&
	       h->sec[SEC_NAMES].size == (uint64_t)h->n_names * sizeof(struct snap_name) &&
	       h->sec[SEC_SEG_OF].size == 65536 * sizeof(uint16_t) &&
	       h->sec[SEC_SEG_LO].size == (uint64_t)h->n_seg * sizeof(uint32_t) &&
	       h->sec[SEC_SEG_OFF].size == ((uint64_t)h->n_seg + 1) * sizeof(uint32_t) &&
	       h->sec[SEC_NAME_REFS].size == (uint64_t)h->n_name_refs * sizeof(uint32_t) &&
	       h->sec[SEC_SEG_ENT].size == (uint64_t)h->n_seg_ent * sizeof(uint32_t) &&
	       h->sec[SEC_STR].off > 0;
}

void pc_registry_set_snapshot(const void *image, size_t len)
{
	struct snap_header h;

	if (!snap_header_ok(image, len, &h)) {
		snap_image = NULL;
		snap_len = 0;
		return;
	}
	snap_image = image;
	snap_len = len;
}

bool pc_registry_from_snapshot(const struct pc_registry *reg)
{
	return reg->thawed;
}

/*
 * True when the snapshot can stand for @path: there is one, the registry
 * is empty, and the file has the bytes the image was made from. Checked
 * before the file is read the usual way, which it then need not be.
 */
static bool snapshot_fits(const struct pc_registry *reg, const char *path,
			  struct snap_header *h)
{
	return snap_image && !reg->n_files && !reg->layer &&
	       snap_header_ok(snap_image, snap_len, h) &&
	       file_has_content(path, h->csv_len, h->csv_hash);
}

/*
 * Leaves what parsing and pc_registry_finish() would: the same files,
 * entries (their @file the path as given now, @epath), date and index.
 * Entries, the name table and the runs of entry pointers are written into
 * the registry's memory; strings, hash slots and the port segments are
 * read where they lie in the image (it outlives the registry). A new
 * index (after an overlay) is built in memory of its own.
 */
static void snapshot_thaw(struct pc_registry *reg, const struct snap_header *h,
			  const char *epath, char mod_date[16])
{
	const unsigned char *img = snap_image;
	const struct snap_file *sf = (const void *)(img + h->sec[SEC_FILES].off);
	const struct snap_entry *se = (const void *)(img + h->sec[SEC_ENT].off);
	const struct snap_name *sn = (const void *)(img + h->sec[SEC_NAMES].off);
	const uint32_t *name_idx = (const void *)(img + h->sec[SEC_NAME_REFS].off);
	const uint32_t *seg_idx = (const void *)(img + h->sec[SEC_SEG_ENT].off);
	struct pc_reg_entry *ent;
	struct name_info *names;
	const struct pc_reg_entry **refs;

#define STR(o) ((o) ? (const char *)(img + (o)) : NULL)
	ent = big_alloc(reg, h->n_ent * sizeof(*ent));
	for (size_t i = 0; i < h->n_ent; i++)
		ent[i] = (struct pc_reg_entry){
			.name = STR(se[i].name),
			.has_port = se[i].has_port,
			.port_lo = se[i].port_lo,
			.port_hi = se[i].port_hi,
			.transport = se[i].transport,
			.status = se[i].status,
			.flags = se[i].flags,
			.description = STR(se[i].description),
			.notes = STR(se[i].notes),
			.file = epath,
			.line = se[i].line,
			.unauthorized = STR(se[i].unauthorized),
		};
	names = big_alloc(reg, h->n_names * sizeof(*names));
	for (size_t i = 0; i < h->n_names; i++)
		names[i] = (struct name_info){
			.key = STR(sn[i].key), .len = sn[i].len, .layer = sn[i].layer,
			.off = sn[i].off, .cnt = sn[i].cnt,
		};
#undef STR
	reg->names = names;
	reg->n_names = h->n_names;
	reg->slots = (const void *)(img + h->sec[SEC_SLOTS].off);
	reg->mask = h->mask;
	refs = big_alloc(reg, h->n_name_refs * sizeof(*refs));
	for (size_t i = 0; i < h->n_name_refs; i++)
		refs[i] = &ent[name_idx[i]];
	reg->name_refs = refs;

	reg->seg_of = (const void *)(img + h->sec[SEC_SEG_OF].off);
	reg->seg_lo = (const void *)(img + h->sec[SEC_SEG_LO].off);
	reg->seg_off = (const void *)(img + h->sec[SEC_SEG_OFF].off);
	reg->n_seg = h->n_seg;
	refs = big_alloc(reg, h->n_seg_ent * sizeof(*refs));
	for (size_t i = 0; i < h->n_seg_ent; i++)
		refs[i] = &ent[seg_idx[i]];
	reg->seg_ent = refs;

	reg->files = xgrow(reg->files, &reg->cap_files, h->n_files, sizeof(*reg->files));
	for (size_t i = 0; i < h->n_files; i++)
		reg->files[i] = (struct reg_file){
			.ent = ent + sf[i].first, .n = sf[i].n, .layer = sf[i].layer,
		};
	reg->n_files = h->n_files;
	reg->n_ent = h->n_ent;
	memcpy(mod_date, h->date, sizeof(h->date));
	mod_date[sizeof(h->date) - 1] = '\0';
}

/* The string table of an image being written: content -> offset. */
struct snap_strings {
	char *buf;
	size_t len, cap;
	uint64_t base;		/* image offset of buf */
	struct {
		uint32_t hash, off;	/* off: into buf, + 1; 0: empty slot */
	} *slot;
	size_t mask;
};

static uint64_t snap_string(struct snap_strings *st, const char *s)
{
	size_t n, i;
	uint32_t h;

	if (!s)
		return 0;
	n = strlen(s);
	h = (uint32_t)content_hash(s, n);
	for (i = h & st->mask; st->slot[i].off; i = (i + 1) & st->mask)
		if (st->slot[i].hash == h && strcmp(st->buf + st->slot[i].off - 1, s) == 0)
			return st->base + st->slot[i].off - 1;
	st->buf = xgrow(st->buf, &st->cap, st->len + n + 1, 1);
	memcpy(st->buf + st->len, s, n + 1);
	st->slot[i].hash = h;
	st->slot[i].off = (uint32_t)st->len + 1;
	st->len += n + 1;
	return st->base + st->slot[i].off - 1;
}

/* Index of entry @e in file order. */
static uint32_t snap_entry_index(const struct pc_registry *reg, const struct pc_reg_entry *e)
{
	size_t first = 0;

	for (size_t i = 0; i < reg->n_files; i++) {
		const struct reg_file *f = &reg->files[i];

		if (e >= f->ent && e < f->ent + f->n)
			return (uint32_t)(first + (size_t)(e - f->ent));
		first += f->n;
	}
	PC_BUG("registry snapshot: entry outside the registry");
}

static inline size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

void *pc_registry_snapshot_write(const struct pc_registry *reg, const void *csv,
				 size_t csv_len, size_t *len)
{
	struct snap_header h = { .version = SNAP_VERSION };
	struct snap_strings st = { .buf = NULL };
	struct snap_entry *ent;
	struct snap_name *names;
	size_t off, n_name_refs = 0, n_seg_ent, k = 0, slots = 64;
	unsigned char *img;
	uint32_t *idx;

	if (!reg->finished || reg->layer || reg->n_ent > UINT32_MAX)
		return NULL;
	for_each_entry(reg, f, e)
		if (e->aliases || (e->flags & ENTRY_HIDDEN))
			return NULL;
	for (size_t i = 0; i < reg->n_names; i++)
		n_name_refs += reg->names[i].cnt;
	n_seg_ent = reg->seg_off[reg->n_seg];

	/* entries and names with their strings as offsets; strings go after the entries */
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.entry_size = sizeof(struct snap_entry);
	h.name_size = sizeof(struct snap_name);
	h.header_size = sizeof(h);
	h.csv_len = csv_len;
	h.csv_hash = content_hash(csv, csv_len);
	h.n_files = (uint32_t)reg->n_files;
	h.n_ent = (uint32_t)reg->n_ent;
	h.n_names = reg->n_names;
	h.mask = reg->mask;
	h.n_seg = reg->n_seg;
	h.n_name_refs = (uint32_t)n_name_refs;
	h.n_seg_ent = n_seg_ent;
	memcpy(h.date, reg->date, sizeof(h.date));
	off = align64(sizeof(h));
#define SECTION(s, sz) (h.sec[s].off = off, h.sec[s].size = (sz), off = align64(off + (sz)))
	SECTION(SEC_FILES, reg->n_files * sizeof(struct snap_file));
	SECTION(SEC_ENT, reg->n_ent * sizeof(struct snap_entry));
	st.base = off;
	while (slots < 4 * (reg->n_ent + reg->n_names))
		slots *= 2;
	st.slot = xzalloc(slots * sizeof(*st.slot));
	st.mask = slots - 1;
	ent = xzalloc(reg->n_ent * sizeof(*ent) + 1);
	for_each_entry(reg, f, e) {
		struct snap_entry *o = &ent[k++];

		o->name = (uint32_t)snap_string(&st, e->name);
		o->has_port = e->has_port;
		o->port_lo = e->port_lo;
		o->port_hi = e->port_hi;
		o->transport = e->transport;
		o->status = e->status;
		o->flags = e->flags;
		o->description = (uint32_t)snap_string(&st, e->description);
		o->notes = (uint32_t)snap_string(&st, e->notes);
		o->unauthorized = (uint32_t)snap_string(&st, e->unauthorized);
		o->line = (uint32_t)e->line;
	}
	names = xzalloc(reg->n_names * sizeof(*names) + 1);
	for (size_t i = 0; i < reg->n_names; i++) {
		const struct name_info *n = &reg->names[i];

		names[i] = (struct snap_name){
			.key = (uint32_t)snap_string(&st, n->key), .len = n->len,
			.layer = n->layer, .off = n->off, .cnt = n->cnt,
		};
	}
	SECTION(SEC_STR, st.len);
	SECTION(SEC_SLOTS, ((size_t)reg->mask + 1) * sizeof(struct name_slot));
	SECTION(SEC_NAMES, reg->n_names * sizeof(struct snap_name));
	SECTION(SEC_SEG_OF, 65536 * sizeof(uint16_t));
	SECTION(SEC_SEG_LO, reg->n_seg * sizeof(uint32_t));
	SECTION(SEC_SEG_OFF, ((size_t)reg->n_seg + 1) * sizeof(uint32_t));
	SECTION(SEC_NAME_REFS, n_name_refs * sizeof(uint32_t));
	SECTION(SEC_SEG_ENT, n_seg_ent * sizeof(uint32_t));
#undef SECTION
	h.image_len = off;
	if (off > UINT32_MAX) {         /* entries keep 32-bit string offsets */
		free(ent);
		free(names);
		free(st.buf);
		free(st.slot);
		return NULL;
	}
	img = xzalloc(off);
	memcpy(img, &h, sizeof(h));
	k = 0;
	for_each_entry(reg, f, e) {
		struct snap_file *sf = (struct snap_file *)(img + h.sec[SEC_FILES].off) + f_i;

		if (e == f->ent)
			*sf = (struct snap_file){
				.first = (uint32_t)k, .n = (uint32_t)f->n, .layer = f->layer,
			};
		k++;
	}
	memcpy(img + h.sec[SEC_ENT].off, ent, h.sec[SEC_ENT].size);
	memcpy(img + h.sec[SEC_STR].off, st.buf, st.len);
	memcpy(img + h.sec[SEC_SLOTS].off, reg->slots, h.sec[SEC_SLOTS].size);
	memcpy(img + h.sec[SEC_NAMES].off, names, h.sec[SEC_NAMES].size);
	memcpy(img + h.sec[SEC_SEG_OF].off, reg->seg_of, h.sec[SEC_SEG_OF].size);
	memcpy(img + h.sec[SEC_SEG_LO].off, reg->seg_lo, h.sec[SEC_SEG_LO].size);
	memcpy(img + h.sec[SEC_SEG_OFF].off, reg->seg_off, h.sec[SEC_SEG_OFF].size);
	idx = (uint32_t *)(img + h.sec[SEC_NAME_REFS].off);
	for (size_t i = 0; i < n_name_refs; i++)
		idx[i] = snap_entry_index(reg, reg->name_refs[i]);
	idx = (uint32_t *)(img + h.sec[SEC_SEG_ENT].off);
	for (size_t i = 0; i < n_seg_ent; i++)
		idx[i] = snap_entry_index(reg, reg->seg_ent[i]);
	free(ent);
	free(names);
	free(st.buf);
	free(st.slot);
	*len = off;
	return img;
}

int pc_registry_load(struct pc_registry *reg, const char *path, bool overlay,
		     struct pc_diag *diag)
{
	struct load l = { .reg = reg, .diag = diag, .path = path, .overlay = overlay };
	uint32_t saved_layer = reg->layer;
	enum format fmt;
	char *text = NULL;
	int ret = 1;
	bool thawed = false;
	struct snap_header snap;

	if (!overlay && snapshot_fits(reg, path, &snap)) {
		l.epath = pc_arena_strdup(reg->arena, path);
		snapshot_thaw(reg, &snap, l.epath, l.mod_date);
		thawed = true;
		goto done;
	}
	text = pc_read_file(path, &l.len);
	if (!text) {
		struct pc_location loc = {
			.file = pc_diag_add_source(diag, path, "", 0),
		};

		pc_diag_error(diag, &loc, "cannot read registry: %s", strerror(errno));
		return 3;
	}
	l.text = text;
	fmt = detect_format(text, l.len);
	if (fmt == FMT_NONE) {
		load_error(&l, 0, 0, 0,
			   "not a service registry (neither an IANA CSV nor an /etc/services-format file)");
		goto out;
	}
	if (overlay)
		reg->layer++;
	l.epath = pc_arena_strdup(reg->arena, path);
	/*
	 * Most records the text can hold: an IANA record is at least its 11
	 * commas and a newline, an /etc/services one "a 1/tcp" and a newline
	 * (the last one may lack it). Only the pages used get touched.
	 */
	l.cap_ent = fmt == FMT_IANA ? l.len / 12 + 1 : l.len / 7 + 1;
	l.ent = big_alloc(reg, l.cap_ent * sizeof(*l.ent));
	/*
	 * Kept strings are never longer than the text they come from. The
	 * block is allocated last so that what it does not use can be given
	 * back (big_trim) to the index that follows.
	 */
	l.block = big_alloc(reg, l.len + 64);
	if (fmt == FMT_IANA)
		load_csv(&l);
	else
		load_services(&l);
	big_trim(reg, l.block, l.block_used);
	if (l.errors) {
		/* nothing of the file is added; its memory goes with the registry */
		reg->layer = saved_layer;
		goto out;
	}
	reg->files = xgrow(reg->files, &reg->cap_files, reg->n_files + 1,
			   sizeof(*reg->files));
	reg->files[reg->n_files++] = (struct reg_file){
		.ent = l.ent, .n = l.n_ent, .layer = reg->layer,
	};
	reg->n_ent += l.n_ent;
done:
	if (!overlay) {
		reg->source = l.epath;
		if (strcmp(l.mod_date, reg->date) > 0)
			memcpy(reg->date, l.mod_date, sizeof(reg->date));
	}
	reg->finished = false;
	/* a thawed base comes with its index; anything else needs a new one */
	reg->index_current = thawed;
	reg->thawed = reg->thawed || thawed;
	ret = 0;
out:
	free(text);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* The index                                                              */

struct pc_registry *pc_registry_create(void)
{
	struct pc_registry *reg = xzalloc(sizeof(*reg));

	reg->arena = pc_arena_create();
	reg->source = "";
	return reg;
}

/* The old index's memory stays in the big chunks until destroy. */
static void index_clear(struct pc_registry *reg)
{
	reg->slots = NULL;
	reg->names = NULL;
	reg->name_refs = NULL;
	reg->seg_of = NULL;
	reg->seg_lo = NULL;
	reg->seg_off = NULL;
	reg->seg_ent = NULL;
	reg->n_seg = 0;
	reg->n_names = 0;
	reg->mask = 0;
}

void pc_registry_destroy(struct pc_registry *reg)
{
	struct big_chunk *c, *next;

	if (!reg)
		return;
	for (c = reg->big; c; c = next) {
		next = c->next;
		free(c->base);
		free(c);
	}
	free(reg->files);
	pc_arena_destroy(reg->arena);
	pc_catalog_destroy(reg->catalog);
	free(reg);
}

void pc_registry_set_catalog(struct pc_registry *reg, struct pc_catalog *cat)
{
	pc_catalog_destroy(reg->catalog);
	reg->catalog = cat;
}

const struct pc_catalog *pc_registry_catalog(const struct pc_registry *reg)
{
	return reg ? reg->catalog : NULL;
}

/* The name index being built. */
struct name_build {
	struct name_slot *slots;
	uint32_t mask;
	struct name_info *names;
	uint32_t n_names;
};

/* Returns the index of @name (hash @h, @len bytes) in b->names, adding it. */
static uint32_t name_insert(struct name_build *b, const char *name, uint32_t len,
			    uint32_t h, uint32_t layer)
{
	uint32_t i;

	for (i = h & b->mask; b->slots[i].name; i = (i + 1) & b->mask) {
		struct name_info *n = &b->names[b->slots[i].name - 1];

		if (b->slots[i].hash == h && n->len == len &&
		    name_equal(n->key, name, len)) {
			if (layer > n->layer)
				n->layer = layer;
			return b->slots[i].name - 1;
		}
	}
	b->names[b->n_names] = (struct name_info){
		.key = name, .len = len, .layer = layer,
	};
	b->slots[i] = (struct name_slot){ .hash = h, .name = ++b->n_names };
	return b->n_names - 1;
}

/*
 * Names are visible from the highest layer (the last overlay) defining
 * them; entries of lower layers under that name are hidden.
 */
static void build_names(struct pc_registry *reg)
{
	struct name_build b = { .n_names = 0 };
	struct name_ref *refs;
	const struct pc_reg_entry **name_refs;
	size_t n_refs = 0, size = 16, total = 0, distinct = 0;
	uint32_t *fill;
	const char *prev_name = NULL;

	for_each_entry(reg, f, e) {
		e->flags &= (uint8_t)~ENTRY_HIDDEN;
		if (!e->name)
			continue;
		n_refs++;
		distinct += e->name != prev_name;
		prev_name = e->name;
		for (const char *const *a = e->aliases; a && *a; a++) {
			n_refs++;
			distinct++;
		}
	}
	while (size < 2 * distinct)
		size *= 2;
	b.slots = big_alloc(reg, size * sizeof(*b.slots));
	b.mask = (uint32_t)size - 1;
	b.names = big_alloc(reg, distinct * sizeof(*b.names));
	refs = big_alloc(reg, n_refs * sizeof(*refs));
	n_refs = 0;
	prev_name = NULL;
	/* every name hashed first, then inserted (below) */
	for_each_entry(reg, f, e) {
		struct name_ref *r;

		if (!e->name)
			continue;
		r = &refs[n_refs++];
		*r = (struct name_ref){ .e = e, .name = e->name, .layer = f->layer };
		/* consecutive records share their name's string (csv_cb_field) */
		if (e->name == prev_name)
			r->slot = SAME_NAME;
		else
			r->hash = name_hash(e->name, &r->len);
		prev_name = e->name;
		for (const char *const *a = e->aliases; a && *a; a++) {
			struct pc_reg_entry *copy =
				pc_arena_memdup(reg->arena, e, sizeof(*e));

			copy->flags |= PC_REG_ALIAS;
			r = &refs[n_refs++];
			*r = (struct name_ref){ .e = copy, .name = *a, .layer = f->layer };
			r->hash = name_hash(*a, &r->len);
			prev_name = NULL;
		}
	}
	for (size_t i = 0; i < n_refs; i++) {
		if (refs[i].slot == SAME_NAME && i > 0)
			refs[i].slot = refs[i - 1].slot;
		else
			refs[i].slot = name_insert(&b, refs[i].name, refs[i].len,
						   refs[i].hash, refs[i].layer);
	}
	/* count the visible refs of each name, then place them in file order */
	for (size_t i = 0; i < n_refs; i++) {
		struct name_info *s = &b.names[refs[i].slot];

		if (refs[i].layer == s->layer)
			s->cnt++;
		else if (!(refs[i].e->flags & PC_REG_ALIAS))
			refs[i].e->flags |= ENTRY_HIDDEN;
	}
	for (size_t i = 0; i < b.n_names; i++) {
		b.names[i].off = (uint32_t)total;
		total += b.names[i].cnt;
	}
	name_refs = big_alloc(reg, total * sizeof(*name_refs));
	fill = big_alloc(reg, b.n_names * sizeof(*fill));
	for (size_t i = 0; i < n_refs; i++) {
		const struct name_info *s = &b.names[refs[i].slot];

		if (refs[i].layer == s->layer)
			name_refs[s->off + fill[refs[i].slot]++] = refs[i].e;
	}
	reg->slots = b.slots;
	reg->mask = b.mask;
	reg->names = b.names;
	reg->n_names = b.n_names;
	reg->name_refs = name_refs;
}

static inline bool in_port_index(const struct pc_reg_entry *e)
{
	return e->has_port && !(e->flags & ENTRY_HIDDEN);
}

static void build_ports(struct pc_registry *reg)
{
	uint64_t bits[65536 / 64 + 1] = { 0 };
	uint32_t k = 0, n_seg = 0, *fill, *seg_lo, *seg_off;
	uint16_t *seg_of;
	const struct pc_reg_entry **seg_ent;

	bits[0] |= 1;
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		bits[e->port_lo / 64] |= 1ull << (e->port_lo % 64);
		bits[(e->port_hi + 1u) / 64] |= 1ull << ((e->port_hi + 1u) % 64);
	}
	bits[65536 / 64] = 0;	/* 65536 is the end, not a segment */
	for (size_t w = 0; w < PC_ARRAY_SIZE(bits); w++)
		n_seg += (uint32_t)__builtin_popcountll(bits[w]);
	seg_lo = big_alloc(reg, n_seg * sizeof(*seg_lo));
	for (size_t w = 0; w < PC_ARRAY_SIZE(bits); w++)
		for (uint64_t b = bits[w]; b; b &= b - 1)
			seg_lo[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
	seg_of = big_alloc(reg, 65536 * sizeof(*seg_of));
	for (k = 0; k < n_seg; k++) {
		uint32_t end = k + 1 < n_seg ? seg_lo[k + 1] : 65536;

		for (uint32_t p = seg_lo[k]; p < end; p++)
			seg_of[p] = (uint16_t)k;
	}
	seg_off = big_alloc(reg, (n_seg + 1) * sizeof(*seg_off));
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		for (k = seg_of[e->port_lo]; k <= seg_of[e->port_hi]; k++)
			seg_off[k + 1]++;
	}
	for (k = 0; k < n_seg; k++)
		seg_off[k + 1] += seg_off[k];
	seg_ent = big_alloc(reg, seg_off[n_seg] * sizeof(*seg_ent));
	fill = big_alloc(reg, n_seg * sizeof(*fill));
	memcpy(fill, seg_off, n_seg * sizeof(*fill));
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		for (k = seg_of[e->port_lo]; k <= seg_of[e->port_hi]; k++)
			seg_ent[fill[k]++] = e;
	}
	reg->seg_of = seg_of;
	reg->seg_lo = seg_lo;
	reg->seg_off = seg_off;
	reg->n_seg = n_seg;
	reg->seg_ent = seg_ent;
}

void pc_registry_finish(struct pc_registry *reg)
{
	/* nothing loaded since the last build, or the thawed snapshot's own */
	if (!reg->index_current) {
		index_clear(reg);
		build_names(reg);
		build_ports(reg);
		reg->index_current = true;
	}
	reg->finished = true;
}

size_t pc_registry_find_name(const struct pc_registry *reg, const char *name,
			     const struct pc_reg_entry *const **out)
{
	uint32_t len, i, h;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	h = name_hash(name, &len);
	for (i = h & reg->mask; reg->slots[i].name; i = (i + 1) & reg->mask) {
		const struct name_info *n;

		if (reg->slots[i].hash != h)
			continue;
		n = &reg->names[reg->slots[i].name - 1];
		if (n->len == len && name_equal(n->key, name, len)) {
			*out = reg->name_refs + n->off;
			return n->cnt;
		}
	}
	*out = NULL;
	return 0;
}

size_t pc_registry_find_port(const struct pc_registry *reg, uint16_t port,
			     unsigned transport,
			     const struct pc_reg_entry **out, size_t max)
{
	size_t n = 0;
	uint32_t k;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	k = reg->seg_of[port];
	for (uint32_t i = reg->seg_off[k]; i < reg->seg_off[k + 1]; i++) {
		const struct pc_reg_entry *e = reg->seg_ent[i];

		if (transport < __PC_TRANSPORT_MAX && e->transport != transport &&
		    e->transport != PC_REG_NO_TRANSPORT)
			continue;
		if (n < max)
			out[n] = e;
		n++;
	}
	return n;
}

size_t pc_registry_count_range(const struct pc_registry *reg, uint16_t lo,
			       uint16_t hi, size_t counts[__PC_REG_STATUS_MAX])
{
	size_t total = 0;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	if (counts)
		memset(counts, 0, __PC_REG_STATUS_MAX * sizeof(*counts));
	if (lo > hi)
		return 0;
	for (uint32_t k = reg->seg_of[lo]; k <= reg->seg_of[hi]; k++) {
		for (uint32_t i = reg->seg_off[k]; i < reg->seg_off[k + 1]; i++) {
			const struct pc_reg_entry *e = reg->seg_ent[i];
			uint16_t first = e->port_lo > lo ? e->port_lo : lo;

			/* an entry spanning several segments counts in its first */
			if (reg->seg_of[first] != k)
				continue;
			if (counts)
				counts[e->status]++;
			total++;
		}
	}
	return total;
}

#define SUGGEST_MAX_LEN 64

/* Optimal string alignment distance, case-folded; > @cutoff when far. */
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb,
			      unsigned cutoff)
{
	unsigned rows[3][SUGGEST_MAX_LEN + 1];
	unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned best;

		cur[0] = (unsigned)i;
		best = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			unsigned char ca = fold((unsigned char)a[i - 1]);
			unsigned char cb = fold((unsigned char)b[j - 1]);
			unsigned v = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == fold((unsigned char)b[j - 2]) &&
			    fold((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cutoff)
			return cutoff + 1;
		unsigned *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

struct suggestion {
	unsigned dist;
	const char *name;
};

static int suggestion_cmp(const struct suggestion *a, const struct suggestion *b)
{
	int c;

	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	c = strcasecmp(a->name, b->name);
	return c ? c : strcmp(a->name, b->name);
}

size_t pc_registry_suggest(const struct pc_registry *reg, const char *name,
			   const char **out, size_t max)
{
	size_t qlen = strlen(name), n = 0;
	unsigned cutoff = qlen <= 3 ? 1 : qlen <= 7 ? 2 : 3;
	struct suggestion *best;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	if (qlen == 0 || qlen > SUGGEST_MAX_LEN || max == 0)
		return 0;
	best = xmalloc(max * sizeof(*best));
	for (uint32_t i = 0; i < reg->n_names; i++) {
		const struct name_info *s = &reg->names[i];
		struct suggestion cand;
		size_t j;

		if (s->len > SUGGEST_MAX_LEN ||
		    (s->len > qlen ? s->len - qlen : qlen - s->len) > cutoff)
			continue;
		cand.dist = edit_distance(name, qlen, s->key, s->len, cutoff);
		cand.name = s->key;
		if (cand.dist > cutoff)
			continue;
		/* insertion into the sorted best list */
		if (n == max && suggestion_cmp(&cand, &best[n - 1]) >= 0)
			continue;
		j = n < max ? n++ : n - 1;
		while (j > 0 && suggestion_cmp(&cand, &best[j - 1]) < 0) {
			best[j] = best[j - 1];
			j--;
		}
		best[j] = cand;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = best[i].name;
	free(best);
	return n;
}

size_t pc_registry_count(const struct pc_registry *reg)
{
	return reg->n_ent;
}

const struct pc_reg_entry *pc_registry_entry(const struct pc_registry *reg, size_t i)
{
	for (size_t f = 0; f < reg->n_files; f++) {
		if (i < reg->files[f].n)
			return &reg->files[f].ent[i];
		i -= reg->files[f].n;
	}
	return NULL;
}

const char *pc_registry_source(const struct pc_registry *reg)
{
	return reg->source;
}

const char *pc_registry_date(const struct pc_registry *reg)
{
	return reg->date;
}
