/* SPDX-License-Identifier: MIT */
/*
 * `hosts NAME = file "PATH"`: an address list maintained outside the
 * policy (threat feeds, exports of other tools), one address, prefix or
 * range per line, `#` comments. Read straight into prefixes, without an
 * AST item per line: a list of a million entries costs the 18 bytes of
 * each prefix, not the syntax tree of a million words. Errors point at
 * the list's own line and column.
 */
#include <errno.h>
#include <sys/stat.h>

#include "ir/addrrange.h"
#include "ir/addrset.h"
#include "policy/resolve_internal.h"

struct file_ctx {
	struct resolver *rs;
	struct addracc *aa;
	const char *name;         /* the list's name in locations (arena) */
	const char *text;
	size_t len;
	bool source_added;
};

static void push(void *ctx, const struct pc_addr *a)
{
	struct addracc *aa = ((struct file_ctx *)ctx)->aa;

	aa->v = xgrow(aa->v, &aa->cap, aa->n + 1, sizeof(*aa->v));
	aa->v[aa->n++] = *a;
}

__attribute__((format(printf, 5, 6)))
static void file_error(struct file_ctx *fc, unsigned line, unsigned col,
		       unsigned len, const char *fmt, ...)
{
	struct pc_location loc = { fc->name, line, col, len };
	va_list ap;

	/* the text is quoted under the message only once something is wrong:
	 * a clean list of a million lines is not copied a second time */
	if (!fc->source_added) {
		pc_diag_add_source(fc->rs->diag, fc->name, fc->text, fc->len);
		fc->source_added = true;
	}
	va_start(ap, fmt);
	pc_diag_vreport(fc->rs->diag, PC_SEV_ERROR, &loc, fmt, ap);
	va_end(ap);
}

/* Inside ::ffff:0:0/96: no IPv4 packet carries such an address. */
static bool v4_mapped(const struct pc_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->family == PC_FAM_IPV6 && a->plen >= 96 &&
	       memcmp(a->a, prefix, sizeof(prefix)) == 0;
}

/* A character that ends a list entry: a blank, or a comment's '#'. */
static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '#';
}

/*
 * The common entry of a feed, "192.0.2.1" or "192.0.2.0/24", written the
 * plain way (no leading zeros, host bits clear), parsed without
 * inet_pton() and the string scans of the general path: a quarter of
 * reading a million-entry list went there. Anything else, valid or not,
 * returns false and takes the general path, which also words the errors;
 * what this accepts, that path accepts with the same result. It is tried
 * where the entry stands in the text, before the line is cut into words:
 * @w up to @end (or a blank, or '#'); *@stop: where the address ended.
 */
static bool parse_plain_v4(const char *w, const char *end, struct pc_addr *a,
			   const char **stop)
{
	unsigned plen = 32;

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (w < end && *w >= '0' && *w <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*w++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255 ||
		    (digits > 1 && w[-(int)digits] == '0'))
			return false;
		a->a[i] = (uint8_t)v;
		if (i < 3 && (w == end || *w++ != '.'))
			return false;
	}
	if (w < end && *w == '/') {
		w++;
		if (w == end || w[0] < '1' || w[0] > '9')
			return false;
		plen = (unsigned)(*w++ - '0');
		if (w < end && *w >= '0' && *w <= '9')
			plen = plen * 10 + (unsigned)(*w++ - '0');
		if (plen > 32)
			return false;
	}
	if (w < end && !is_sep(*w))
		return false;
	*stop = w;
	a->family = PC_FAM_IPV4;
	a->plen = (uint8_t)plen;
	if (plen < 32) {
		uint32_t addr = (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
				(uint32_t)a->a[2] << 8 | a->a[3];

		if (addr & (0xffffffffu >> plen))
			return false;
	}
	return true;
}

/* One entry of the list; @word is NUL-terminated. */
static void parse_entry(struct file_ctx *fc, char *word, unsigned line,
			unsigned col, unsigned wlen)
{
	struct pc_addr a, hi;
	char err[200];
	bool is_range;
	char *slash;

	if (pc_addr_range_parse(word, &a, &hi, &is_range, err, sizeof(err))) {
		if (v4_mapped(&a) || v4_mapped(&hi)) {
			file_error(fc, line, col, wlen,
				   "'%s' holds IPv4-mapped IPv6 addresses, which no IPv4 packet carries: write IPv4 addresses",
				   word);
			return;
		}
		pc_addr_range_cover(&a, &hi, push, fc);
		return;
	}
	if (is_range) {
		file_error(fc, line, col, wlen, "%s", err);
		return;
	}
	slash = strchr(word, '/');
	if (slash)
		*slash = '\0';
	if (!pc_addr_parse(word, slash ? slash + 1 : NULL, &a, err, sizeof(err))) {
		file_error(fc, line, col, wlen, "%s", err);
		return;
	}
	if (v4_mapped(&a)) {
		file_error(fc, line, col, wlen,
			   "'%s' is an IPv4-mapped IPv6 address, which no IPv4 packet carries: write it as IPv4",
			   word);
		return;
	}
	push(fc, &a);
}

bool resolve_hosts_file(struct resolver *rs, const struct pc_ast_stmt *s,
			struct addracc *aa)
{
	struct file_ctx fc = { rs, aa, s->hosts_file, NULL, 0, false };
	size_t errors = pc_diag_count(rs->diag, PC_SEV_ERROR);
	struct stat st;
	char *text;
	size_t len;
	unsigned line = 0;

	if (stat(s->hosts_file, &st) == 0 && !S_ISREG(st.st_mode)) {
		pc_diag_error(rs->diag, &s->hosts_file_loc,
			      "cannot read address list '%s': not a regular file", s->hosts_file);
		return false;
	}
	text = pc_read_file(s->hosts_file, &len);
	if (!text) {
		pc_diag_error(rs->diag, &s->hosts_file_loc, "cannot read address list '%s': %s",
			      s->hosts_file, strerror(errno));
		return false;
	}
	fc.text = text;
	fc.len = len;
	for (size_t pos = 0; pos < len && !pc_diag_full(rs->diag);) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t end = eol ? (size_t)(eol - text) : len, p = pos, w;
		char word[128];

		line++;
		while (p < end && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r'))
			p++;
		/* the common line, an address and nothing after it: parsed
		 * where it stands, without finding its end first and copying it */
		if (p < end && text[p] != '#') {
			struct pc_addr a;
			const char *stop;

			if (parse_plain_v4(text + p, text + end, &a, &stop)) {
				while (stop < text + end && *stop != '#' && is_sep(*stop))
					stop++;
				if (stop == text + end || *stop == '#') {
					push(&fc, &a);
					pos = end + 1;
					continue;
				}
			}
		}
		w = p;
		while (w < end && text[w] != '#' && text[w] != ' ' && text[w] != '\t' &&
		       text[w] != '\r')
			w++;
		if (w > p) {
			unsigned col = (unsigned)(p - pos) + 1, wlen = (unsigned)(w - p);
			size_t q = w;

			while (q < end && (text[q] == ' ' || text[q] == '\t' || text[q] == '\r'))
				q++;
			if (q < end && text[q] != '#') {
				file_error(&fc, line, (unsigned)(q - pos) + 1, 0,
					   "one address, prefix or range per line (a '#' starts a comment)");
			} else if (w - p >= sizeof(word)) {
				file_error(&fc, line, col, wlen, "'%.*s...' is no address",
					   40, text + p);
			} else {
				memcpy(word, text + p, w - p);
				word[w - p] = '\0';
				parse_entry(&fc, word, line, col, wlen);
			}
		}
		pos = end + 1;
	}
	free(text);
	return pc_diag_count(rs->diag, PC_SEV_ERROR) == errors;
}
