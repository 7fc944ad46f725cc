/* SPDX-License-Identifier: MIT */
#include "policy/lexer.h"

#include <stdint.h>
#include <string.h>

#include "policy/ast.h"
#include "common/util.h"

static const char *const tok_names[] = {
	[PC_TOK_EOF] = "end of file",
	[PC_TOK_NEWLINE] = "end of line",
	[PC_TOK_WORD] = "word",
	[PC_TOK_STRING] = "string",
	[PC_TOK_VAR] = "$group",
	[PC_TOK_LBRACE] = "'{'",
	[PC_TOK_RBRACE] = "'}'",
	[PC_TOK_COMMA] = "','",
	[PC_TOK_SLASH] = "'/'",
	[PC_TOK_EQUALS] = "'='",
	[PC_TOK_ARROW] = "'->'",
};

const char *pc_tok_name(enum pc_tok kind)
{
	return kind < __PC_TOK_MAX ? tok_names[kind] : "?";
}

/* Words that start a statement: inside an unclosed '{' they end the list. */
static const char *const stmt_words[] = {
	"allow", "default", "deny", "dnat", "hosts", "include", "masquerade",
	"option", "reject", "services", "snat", "table", "transports",
};

/* a-z A-Z 0-9 _ : . + - as a bitmap: the lexer asks for every byte */
static const uint64_t word_chars[4] = { 0x07ff680000000000ull, 0x07fffffe87fffffeull, 0x0000000000000000ull, 0x0000000000000000ull };

static inline bool is_word_char(unsigned char c)
{
	return word_chars[c >> 6] >> (c & 63) & 1;
}

/* Length of a valid UTF-8 sequence at @p (< @end), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void set_loc(struct pc_lexer *lx, struct pc_location *loc,
		    const char *start, size_t len)
{
	loc->file = lx->file;
	loc->line = lx->line;
	loc->col = (unsigned)(start - lx->line_start) + 1;
	loc->len = (unsigned)len;
}

static void error_at(struct pc_lexer *lx, const char *at, size_t len,
		     const char *msg)
{
	struct pc_location loc;

	set_loc(lx, &loc, at, len);
	pc_diag_error(lx->diag, &loc, "%s", msg);
}

/*
 * Called at the start of each line: rejects over-long lines and invalid
 * UTF-8 once per line, so that the rest of the lexer can trust the bytes.
 * Returns false when the line is to be skipped.
 */
static bool check_line(struct pc_lexer *lx)
{
	const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
	const char *eol = nl ? nl : lx->end;
	const unsigned char *q;

	if (eol - lx->p > PC_MAX_LINE) {
		struct pc_location loc;

		set_loc(lx, &loc, lx->p, 1);
		pc_diag_error(lx->diag, &loc, "line too long (more than %d bytes)",
			      PC_MAX_LINE);
		lx->p = eol;
		return false;
	}
	for (q = (const unsigned char *)lx->p; q < (const unsigned char *)eol;) {
		size_t n;

		/*
		 * Kept speed trick: plain ASCII eight bytes at a time (no byte
		 * >= 0x80, no NUL). Every byte of every policy line passes this
		 * check before it is tokenised, and policies are nearly all
		 * ASCII, so the byte-wise UTF-8 walk below runs only on the rare
		 * non-ASCII word or comment.
		 */
		while ((const unsigned char *)eol - q >= 8) {
			uint64_t w;

			memcpy(&w, q, sizeof(w));
			if ((w & 0x8080808080808080ull) ||
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
				break;
			q += 8;
		}
		if (q >= (const unsigned char *)eol)
			break;
		n = utf8_len(q, (const unsigned char *)eol);

		if (!n) {
			error_at(lx, (const char *)q, 1, "invalid UTF-8");
			lx->p = eol;
			return false;
		}
		if (*q == '\0') {
			error_at(lx, (const char *)q, 1, "NUL byte in policy");
			lx->p = eol;
			return false;
		}
		q += n;
	}
	return true;
}

static bool starts_statement(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	for (size_t i = 0; i < PC_ARRAY_SIZE(stmt_words); i++) {
		size_t n = strlen(stmt_words[i]);

		if ((size_t)(end - p) > n && memcmp(p, stmt_words[i], n) == 0 &&
		    (p[n] == ' ' || p[n] == '\t'))
			return true;
	}
	return false;
}

void pc_lexer_init(struct pc_lexer *lx, const char *file, const char *text,
		   size_t len, struct pc_arena *arena, struct pc_diag *diag)
{
	memset(lx, 0, sizeof(*lx));
	lx->file = file;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->line_start = text;
	lx->arena = arena;
	lx->diag = diag;
	check_line(lx);
}

void pc_lexer_fini(struct pc_lexer *lx)
{
	free(lx->intern);
	lx->intern = NULL;
	lx->cap_intern = lx->n_intern = 0;
}

/* FNV-1a, its high bits folded in: the table takes the low ones */
static size_t text_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 32);
}

static bool same_text(const char *stored, const char *s, size_t n)
{
	return strncmp(stored, s, n) == 0 && stored[n] == '\0';
}

/*
 * The arena's copy of @s (@n bytes, no NUL: words are made of word
 * characters and strings of printable ones), made once per distinct text:
 * the parser and the IR only read token texts, so equal ones can share it.
 */
static const char *intern(struct pc_lexer *lx, const char *s, size_t n)
{
	size_t mask, i;
	const char *copy;

	if (2 * (lx->n_intern + 1) > lx->cap_intern) {
		size_t cap = lx->cap_intern ? 2 * lx->cap_intern : 1024;
		const char **t = xcalloc(cap, sizeof(*t));

		for (size_t k = 0; k < lx->cap_intern; k++) {
			const char *e = lx->intern[k];

			if (!e)
				continue;
			for (i = text_hash(e, strlen(e)) & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
				;
			t[i] = e;
		}
		free(lx->intern);
		lx->intern = t;
		lx->cap_intern = cap;
	}
	mask = lx->cap_intern - 1;
	for (i = text_hash(s, n) & mask; lx->intern[i]; i = (i + 1) & mask)
		if (same_text(lx->intern[i], s, n))
			return lx->intern[i];
	copy = pc_arena_strndup(lx->arena, s, n);
	lx->intern[i] = copy;
	lx->n_intern++;
	return copy;
}

static void lex_string(struct pc_lexer *lx, struct pc_token *tok)
{
	const char *start = lx->p;
	char buf[PC_MAX_STRING + 1];
	size_t n = 0;
	bool bad = false, too_long = false;

	lx->p++;
	for (;;) {
		char c;

		if (lx->p >= lx->end || *lx->p == '\n') {
			error_at(lx, start, (size_t)(lx->p - start),
				 "unterminated string");
			bad = true;
			break;
		}
		c = *lx->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (lx->p < lx->end && (*lx->p == '"' || *lx->p == '\\')) {
				c = *lx->p++;
			} else {
				error_at(lx, lx->p - 1, 2,
					 "unknown escape in string (only \\\" and \\\\)");
				bad = true;
				if (lx->p < lx->end && *lx->p != '\n')
					lx->p++;
				continue;
			}
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			error_at(lx, lx->p - 1, 1, "control character in string");
			bad = true;
			continue;
		}
		if (n < PC_MAX_STRING)
			buf[n++] = c;
		else
			too_long = true;
	}
	set_loc(lx, &tok->loc, start, (size_t)(lx->p - start));
	if (too_long && !bad)
		pc_diag_error(lx->diag, &tok->loc,
			      "string longer than %d bytes", PC_MAX_STRING);
	tok->kind = PC_TOK_STRING;
	tok->text = intern(lx, buf, n);
}

void pc_lexer_next(struct pc_lexer *lx, struct pc_token *tok)
{
	const char *start;

	memset(tok, 0, sizeof(*tok));
again:
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#')
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	if (lx->p >= lx->end) {
		if (lx->depth > 0) {
			pc_diag_error(lx->diag, &lx->brace_loc, "unclosed '{'");
			lx->depth = 0;
		}
		set_loc(lx, &tok->loc, lx->p, 0);
		tok->kind = PC_TOK_EOF;
		return;
	}
	start = lx->p;
	if (*lx->p == '\n') {
		set_loc(lx, &tok->loc, lx->p, 1);
		lx->p++;
		lx->line++;
		lx->line_start = lx->p;
		/* a bad line is skipped by check_line; its newline ends the statement */
		if (lx->p < lx->end)
			check_line(lx);
		if (lx->depth > 0) {
			if (!starts_statement(lx->p, lx->end))
				goto again;
			pc_diag_error(lx->diag, &lx->brace_loc, "unclosed '{'");
			lx->depth = 0;
		}
		tok->kind = PC_TOK_NEWLINE;
		return;
	}
	switch (*lx->p) {
	case '"':
		lex_string(lx, tok);
		return;
	case '{':
		lx->p++;
		set_loc(lx, &tok->loc, start, 1);
		if (lx->depth++ == 0)
			lx->brace_loc = tok->loc;
		tok->kind = PC_TOK_LBRACE;
		return;
	case '}':
		lx->p++;
		set_loc(lx, &tok->loc, start, 1);
		if (lx->depth > 0)
			lx->depth--;
		tok->kind = PC_TOK_RBRACE;
		return;
	case ',':
		lx->p++;
		set_loc(lx, &tok->loc, start, 1);
		tok->kind = PC_TOK_COMMA;
		return;
	case '/':
		lx->p++;
		set_loc(lx, &tok->loc, start, 1);
		tok->kind = PC_TOK_SLASH;
		return;
	case '=':
		lx->p++;
		set_loc(lx, &tok->loc, start, 1);
		tok->kind = PC_TOK_EQUALS;
		return;
	case '-':
		if (lx->p + 1 < lx->end && lx->p[1] == '>') {
			lx->p += 2;
			set_loc(lx, &tok->loc, start, 2);
			tok->kind = PC_TOK_ARROW;
			return;
		}
		break;
	case '[':
		/* [2001:db8::1]:8080, a NAT target: one word with its brackets */
		lx->p++;
		while (lx->p < lx->end && *lx->p != ']' && is_word_char((unsigned char)*lx->p))
			lx->p++;
		if (lx->p < lx->end && *lx->p == ']') {
			lx->p++;
			while (lx->p < lx->end && is_word_char((unsigned char)*lx->p))
				lx->p++;
			set_loc(lx, &tok->loc, start, (size_t)(lx->p - start));
			tok->kind = PC_TOK_WORD;
			tok->text = intern(lx, start, (size_t)(lx->p - start));
			return;
		}
		lx->p = start;
		break;
	case '$':
		lx->p++;
		while (lx->p < lx->end && is_word_char((unsigned char)*lx->p))
			lx->p++;
		set_loc(lx, &tok->loc, start, (size_t)(lx->p - start));
		if (lx->p == start + 1) {
			pc_diag_error(lx->diag, &tok->loc, "'$' must be followed by a group name");
			goto again;
		}
		tok->kind = PC_TOK_VAR;
		tok->text = intern(lx, start + 1, (size_t)(lx->p - start - 1));
		return;
	default:
		break;
	}
	if (is_word_char((unsigned char)*lx->p)) {
		while (lx->p < lx->end && is_word_char((unsigned char)*lx->p))
			lx->p++;
		/* a '*' ending a word is an interface wildcard (eth*); inside a
		 * word it stays an error below, as in sql*net */
		if (lx->p < lx->end && *lx->p == '*' &&
		    (lx->p + 1 == lx->end || !is_word_char((unsigned char)lx->p[1])))
			lx->p++;
		set_loc(lx, &tok->loc, start, (size_t)(lx->p - start));
		tok->kind = PC_TOK_WORD;
		tok->text = intern(lx, start, (size_t)(lx->p - start));
		return;
	}
	{
		unsigned char c = (unsigned char)*lx->p;
		size_t n = utf8_len((const unsigned char *)lx->p,
				    (const unsigned char *)lx->end);
		struct pc_location loc;

		if (!n)
			n = 1;
		set_loc(lx, &loc, lx->p, n);
		if (c == '*')
			pc_diag_error(lx->diag, &loc,
				      "unexpected character '*' (quote names that hold it: \"sql*net\")");
		else if (c == '!')
			/* habits (issue 14): iptables' and pf's negation */
			pc_diag_error(lx->diag, &loc,
				      "unexpected character '!': negation is written 'not' (from not 10.0.0.0/8, to not $group, on not eth0)");
		else if (c >= 0x20 && c < 0x7f)
			pc_diag_error(lx->diag, &loc, "unexpected character '%c'", c);
		else
			pc_diag_error(lx->diag, &loc, "unexpected character (byte 0x%02x)", c);
		lx->p += n;
		goto again;
	}
}
