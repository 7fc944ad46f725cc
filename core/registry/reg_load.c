/* SPDX-License-Identifier: MIT */
/*
 * Loading a registry file: the IANA CSV through libcsv, the /etc/services
 * format by hand, recognised by content.
 */
#include "registry/reg_internal.h"

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

void pc_reg_file_verror(struct pc_diag *diag, const char **dpath, const char *path,
			const char *text, size_t len, struct pc_location *loc,
			const char *fmt, va_list ap)
{
	if (!*dpath)
		*dpath = pc_diag_add_source(diag, path, text, len);
	loc->file = *dpath;
	pc_diag_vreport(diag, PC_SEV_ERROR, loc, fmt, ap);
}

static void load_error(struct load *l, unsigned line, unsigned col, unsigned len,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void load_error(struct load *l, unsigned line, unsigned col, unsigned len,
		       const char *fmt, ...)
{
	struct pc_location loc = { .line = line, .col = col, .len = len };
	va_list ap;

	va_start(ap, fmt);
	pc_reg_file_verror(l->diag, &l->dpath, l->path, l->text, l->len, &loc, fmt, ap);
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
