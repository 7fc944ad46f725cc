/* SPDX-License-Identifier: MIT */
/*
 * Recursive-descent parser: tokens to struct pc_ast. One statement per
 * line; after an error the rest of the line is skipped and parsing goes on
 * (pfctl-style resynchronisation at the newline).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/ast.h"
#include "policy/lexer.h"
#include "common/util.h"

struct include_frame {
	const char *real;        /* realpath of the file */
	const char *name;
};

struct parser {
	struct pc_ast *ast;
	struct pc_arena *arena;
	struct pc_diag *diag;
	struct pc_lexer lx;
	struct pc_token tok;
	bool bad_line;            /* an error was reported on this statement */
	size_t reported;          /* errors perror_at() reported, in all */
	size_t errors_before;     /* error count when the statement started */
	struct include_frame *stack;
	size_t depth;
	struct pc_include_cache *cache;   /* NULL: every include is read and parsed */
};

/*
 * An included file as parsed once in a run (pc_include_cache): what a
 * fresh parse under the same name would add to the tree, without errors
 * or warnings (a file with any is parsed again each time, so that each
 * policy reports them).
 */
struct cached_include {
	const char *name;               /* as the including file named it */
	const char *real;
	struct pc_ast_stmt **stmts;     /* its statements, its includes' within */
	size_t n_stmts;
	struct pc_ast_included *nested; /* the files it includes, at any depth */
	size_t n_nested;
	size_t bytes;                   /* its bytes and its includes' */
	size_t height;                  /* include levels below it (0: none) */
};

struct pc_include_cache {
	struct pc_arena *arena;  /* the cached statements and every string they hold */
	struct cached_include *ent;
	size_t n, cap;
	size_t deepest;          /* while parsing: the deepest file depth seen */
};

/* Per-file state is in the lexer; includes recurse with a fresh parser. */
static void parse_text(struct pc_ast *ast, struct pc_diag *diag,
		       struct include_frame *stack, size_t depth,
		       const char *name, const char *text, size_t len,
		       struct pc_arena *arena, struct pc_include_cache *cache);

static void next(struct parser *ps)
{
	pc_lexer_next(&ps->lx, &ps->tok);
}

static bool at(const struct parser *ps, enum pc_tok kind)
{
	return ps->tok.kind == kind;
}

static bool at_word(const struct parser *ps, const char *w)
{
	return ps->tok.kind == PC_TOK_WORD && strcmp(ps->tok.text, w) == 0;
}

static bool at_end(const struct parser *ps)
{
	return at(ps, PC_TOK_NEWLINE) || at(ps, PC_TOK_EOF);
}

static void describe(const struct pc_token *t, char *buf, size_t n)
{
	if (t->kind == PC_TOK_WORD)
		snprintf(buf, n, "'%s'", t->text);
	else if (t->kind == PC_TOK_STRING)
		snprintf(buf, n, "string \"%s\"", t->text);
	else if (t->kind == PC_TOK_VAR)
		snprintf(buf, n, "'$%s'", t->text);
	else
		snprintf(buf, n, "%s", pc_tok_name(t->kind));
}

/* Reports once per statement; later errors of a broken line are noise. */
__attribute__((format(printf, 3, 4)))
static void perror_at(struct parser *ps, const struct pc_location *loc,
		      const char *fmt, ...)
{
	va_list ap;

	/* the lexer may have reported this line's problem already */
	if (ps->bad_line || pc_diag_count(ps->diag, PC_SEV_ERROR) > ps->errors_before)
		return;
	ps->bad_line = true;
	ps->reported++;
	va_start(ap, fmt);
	pc_diag_vreport(ps->diag, PC_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
}

static void expected(struct parser *ps, const char *what)
{
	char got[96];

	describe(&ps->tok, got, sizeof(got));
	perror_at(ps, &ps->tok.loc, "expected %s, got %s", what, got);
}

static void skip_line(struct parser *ps)
{
	while (!at_end(ps))
		next(ps);
}

static struct pc_ast_stmt *add_stmt(struct parser *ps, enum pc_ast_stmt_kind kind,
				    const struct pc_location *loc)
{
	struct pc_ast *ast = ps->ast;
	struct pc_ast_stmt *s;

	s = pc_arena_alloc(ps->arena, sizeof(*s));
	ast->stmts = xgrow(ast->stmts, &ast->cap, ast->n + 1, sizeof(*ast->stmts));
	ast->stmts[ast->n++] = s;
	s->kind = kind;
	s->loc = *loc;
	return s;
}

/* Optional "/ SUFFIX" after an item or a list. */
static bool parse_suffix(struct parser *ps, const char **suffix,
			 struct pc_location *loc)
{
	if (!at(ps, PC_TOK_SLASH))
		return true;
	next(ps);
	if (!at(ps, PC_TOK_WORD)) {
		expected(ps, "a protocol, prefix length or unit after '/'");
		return false;
	}
	*suffix = ps->tok.text;
	*loc = ps->tok.loc;
	next(ps);
	return true;
}

static enum pc_ast_item_hint hint_of(const char *w)
{
	if (strcmp(w, "service") == 0)
		return PC_AST_HINT_SERVICE;
	if (strcmp(w, "port") == 0)
		return PC_AST_HINT_PORT;
	if (strcmp(w, "class") == 0)
		return PC_AST_HINT_CLASS;
	return PC_AST_HINT_NONE;
}

static bool parse_item(struct parser *ps, struct pc_ast_item *it, bool hints)
{
	memset(it, 0, sizeof(*it));
	if (hints && at(ps, PC_TOK_WORD) && hint_of(ps->tok.text) != PC_AST_HINT_NONE) {
		it->hint = hint_of(ps->tok.text);
		next(ps);
	}
	switch (ps->tok.kind) {
	case PC_TOK_WORD:
		it->kind = PC_AST_WORD;
		break;
	case PC_TOK_STRING:
		it->kind = PC_AST_STRING;
		break;
	case PC_TOK_VAR:
		it->kind = PC_AST_VAR;
		break;
	default:
		expected(ps, "a name, number, address, string or $group");
		return false;
	}
	it->loc = ps->tok.loc;
	it->text = ps->tok.text;
	next(ps);
	return parse_suffix(ps, &it->suffix, &it->suffix_loc);
}

/*
 * A single item, or '{' item [,] item ... '}' [/SUFFIX]. With @bare_commas,
 * "a, b, c" without braces is a list too (transports, groups).
 */
static bool parse_list(struct parser *ps, struct pc_ast_list *l, bool hints,
		       bool bare_commas)
{
	struct pc_ast_item *v = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;

	memset(l, 0, sizeof(*l));
	l->loc = ps->tok.loc;
	if (at(ps, PC_TOK_LBRACE)) {
		l->braced = true;
		next(ps);
		while (!at(ps, PC_TOK_RBRACE)) {
			if (at_end(ps)) {
				expected(ps, "'}'");
				ok = false;
				break;
			}
			if (at(ps, PC_TOK_LBRACE)) {
				perror_at(ps, &ps->tok.loc, "lists do not nest: use a $group");
				ok = false;
				break;
			}
			if (n >= PC_MAX_LIST) {
				perror_at(ps, &ps->tok.loc, "list longer than %d items", PC_MAX_LIST);
				ok = false;
				break;
			}
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			if (!parse_item(ps, &v[n], hints)) {
				ok = false;
				break;
			}
			n++;
			if (at(ps, PC_TOK_COMMA))
				next(ps);
		}
		if (ok) {
			next(ps); /* '}' */
			if (n == 0) {
				perror_at(ps, &l->loc, "empty list");
				ok = false;
			} else {
				ok = parse_suffix(ps, &l->suffix, &l->suffix_loc);
			}
		}
	} else {
		do {
			if (n)
				next(ps); /* ',' */
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			if (!parse_item(ps, &v[n], hints)) {
				ok = false;
				break;
			}
			n++;
		} while (bare_commas && at(ps, PC_TOK_COMMA));
	}
	l->n = n;
	l->v = pc_arena_memdup(ps->arena, v, n * sizeof(*v));
	free(v);
	return ok;
}

static bool parse_direction(struct parser *ps, enum pc_direction *dir)
{
	static const char *const names[] = { "in", "out", "forward" };

	for (unsigned i = 0; i < PC_ARRAY_SIZE(names); i++)
		if (at_word(ps, names[i])) {
			*dir = (enum pc_direction)i;
			next(ps);
			return true;
		}
	expected(ps, "a direction (in, out, forward)");
	return false;
}

static bool parse_verdict_word(const char *w, enum pc_verdict *v)
{
	if (strcmp(w, "allow") == 0)
		*v = PC_VERDICT_ALLOW;
	else if (strcmp(w, "deny") == 0)
		*v = PC_VERDICT_DENY;
	else if (strcmp(w, "reject") == 0)
		*v = PC_VERDICT_REJECT;
	else
		return false;
	return true;
}

static const struct {
	const char *word;
	enum pc_ast_match_kind kind;
} match_words[] = {
	{ "class", PC_AST_MATCH_CLASS },
	{ "family", PC_AST_MATCH_FAMILY },
	{ "from", PC_AST_MATCH_FROM },
	{ "icmp", PC_AST_MATCH_ICMP },
	{ "icmpv6", PC_AST_MATCH_ICMPV6 },
	{ "port", PC_AST_MATCH_PORT },
	{ "proto", PC_AST_MATCH_PROTO },
	{ "service", PC_AST_MATCH_SERVICE },
	{ "to", PC_AST_MATCH_TO },
};


/* matches (issue 14): [burst M] after a rate; `per source` is refused. */
static bool parse_limit_tail(struct parser *ps, struct pc_ast_rule *r)
{
	if (at_word(ps, "burst")) {
		char *end;
		unsigned long burst;

		next(ps);
		errno = 0;
		burst = at(ps, PC_TOK_WORD) ? strtoul(ps->tok.text, &end, 10) : 0;
		if (!at(ps, PC_TOK_WORD) || !pc_all_digits(ps->tok.text) || *end || errno ||
		    burst == 0 || burst > 1000000) {
			expected(ps, "a burst of 1 to 1000000 packets after 'burst'");
			return false;
		}
		r->limit_burst = (uint32_t)burst;
		next(ps);
	}
	if (at_word(ps, "per")) {
		perror_at(ps, &ps->tok.loc,
			  "'limit ... per source' (a bucket per source address) is not available yet: one bucket per rule only");
		return false;
	}
	return true;
}

static bool parse_limit(struct parser *ps, struct pc_ast_rule *r)
{
	/* nft's and iptables' short units too (issue 14): 5/min, 10/s, 1/h */
	static const struct {
		const char *word;
		enum pc_limit_unit unit;
	} units[] = {
		{ "second", PC_LIMIT_SECOND }, { "s", PC_LIMIT_SECOND }, { "sec", PC_LIMIT_SECOND },
		{ "minute", PC_LIMIT_MINUTE }, { "min", PC_LIMIT_MINUTE }, { "m", PC_LIMIT_MINUTE },
		{ "hour", PC_LIMIT_HOUR }, { "h", PC_LIMIT_HOUR },
		{ "day", PC_LIMIT_DAY }, { "d", PC_LIMIT_DAY },
	};
	char *end;
	unsigned long rate;
	struct pc_location loc = ps->tok.loc;

	r->limit_loc = loc;
	next(ps);
	if (!at(ps, PC_TOK_WORD)) {
		expected(ps, "a rate such as 10/minute");
		return false;
	}
	errno = 0;
	rate = strtoul(ps->tok.text, &end, 10);
	if (*end || errno || rate == 0 || rate > 1000000 || ps->tok.text[0] == '-') {
		perror_at(ps, &ps->tok.loc, "rate must be a number from 1 to 1000000");
		return false;
	}
	r->limit_loc = ps->tok.loc;
	next(ps);
	if (!at(ps, PC_TOK_SLASH)) {
		expected(ps, "'/' and a unit (second, minute, hour, day)");
		return false;
	}
	next(ps);
	for (unsigned i = 0; i < PC_ARRAY_SIZE(units); i++)
		if (at_word(ps, units[i].word)) {
			r->limit.rate = (uint32_t)rate;
			r->limit.unit = units[i].unit;
			r->limit_loc.len = ps->tok.loc.col + ps->tok.loc.len - r->limit_loc.col;
			next(ps);
			return parse_limit_tail(ps, r);
		}
	expected(ps, "a unit (second, minute, hour, day)");
	return false;
}

/* The current token follows the previous one with no blank between: the
 * rest of a word the lexer cut at a bad character (sql*net). */
static bool glued(const struct parser *ps)
{
	unsigned col = ps->tok.loc.col;

	if (ps->tok.loc.line != ps->lx.line || col < 2)
		return false;
	return ps->lx.line_start[col - 2] != ' ' && ps->lx.line_start[col - 2] != '\t';
}

/* A word that starts a clause of a rule: where parsing resumes after an error. */
static bool at_clause(const struct parser *ps)
{
	static const char *const words[] = { "on", "out", "log", "limit", "comment" };

	if (!at(ps, PC_TOK_WORD))
		return false;
	for (size_t i = 0; i < PC_ARRAY_SIZE(match_words); i++)
		if (strcmp(ps->tok.text, match_words[i].word) == 0)
			return true;
	for (size_t i = 0; i < PC_ARRAY_SIZE(words); i++)
		if (strcmp(ps->tok.text, words[i]) == 0)
			return true;
	return false;
}

static const char *match_word_of(enum pc_ast_match_kind kind)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(match_words); i++)
		if (match_words[i].kind == kind)
			return match_words[i].word;
	return "match";
}

/* habits (issue 14): an iptables option pasted into a rule, e.g. -j ACCEPT. */
static void iptables_hint(struct parser *ps, const struct pc_location *kw)
{
	const char *opt = ps->tok.text, *verdict = NULL;

	if (strcmp(opt, "-j") == 0 || strcmp(opt, "--jump") == 0) {
		next(ps);
		if (at(ps, PC_TOK_WORD)) {
			if (strcmp(ps->tok.text, "ACCEPT") == 0)
				verdict = "allow";
			else if (strcmp(ps->tok.text, "DROP") == 0)
				verdict = "deny";
			else if (strcmp(ps->tok.text, "REJECT") == 0)
				verdict = "reject";
		}
	}
	if (verdict)
		perror_at(ps, kw, "'-j %s' is iptables' syntax: in portcullis the verdict starts the rule (%s DIRECTION [MATCH ...])",
			  ps->tok.text, verdict);
	else
		perror_at(ps, kw, "'%s' is an iptables option, not portcullis syntax: a rule is VERDICT DIRECTION [on IFACE] [service|port|class|proto|from|to|icmp|icmpv6 ...] [log] [limit] [comment]",
			  opt);
}

/*
 * `on IFACES` or, in a forward rule, `out on IFACES`: a name, a prefix
 * wildcard or a { list } of them (checked by the resolver).
 */
static bool parse_rule_iface(struct parser *ps, struct pc_ast_rule *r)
{
	struct pc_location kw = ps->tok.loc;
	bool out = at_word(ps, "out");
	struct pc_ast_list *l = out ? &r->oifaces : &r->ifaces;

	if (out) {
		next(ps);
		if (!at_word(ps, "on")) {
			expected(ps, "'on' after 'out' (out on IFACE: the interface a forwarded packet leaves on)");
			return false;
		}
		if (r->nat) {
			perror_at(ps, &kw,
				  "'out on' is not for NAT: the 'on' of masquerade and snat is the leaving interface, of dnat the arriving one");
			return false;
		}
		if (r->dir != PC_DIR_FORWARD) {
			perror_at(ps, &kw, "'out on' is for forward rules: the 'on' of an %s rule is already the interface its packets %s",
				  pc_direction_name(r->dir), r->dir == PC_DIR_OUT ? "leave on" : "arrive on");
			return false;
		}
	}
	if (l->n) {
		perror_at(ps, &kw, "'%s' given twice in one rule: use a list { … }",
			  out ? "out on" : "on");
		return false;
	}
	next(ps);
	if (!out && at_word(ps, "not")) {   /* matches (issue 14): on not IFACES */
		if (r->nat) {
			perror_at(ps, &ps->tok.loc, "'on not' is not for NAT: name the interfaces it is for");
			return false;
		}
		r->iface_not = true;
		next(ps);
	}
	if (!at(ps, PC_TOK_WORD) && !at(ps, PC_TOK_STRING) && !at(ps, PC_TOK_LBRACE)) {
		expected(ps, "an interface name or a { list } of them");
		return false;
	}
	if (!parse_list(ps, l, false, false))
		return false;
	if (!out) {
		r->iface = l->v[0].text;
		r->iface_loc = l->v[0].loc;
	}
	return true;
}

/*
 * A rule (@kind PC_AST_RULE), an expectation (PC_AST_EXPECT), or with @nat
 * a NAT statement (masquerade, snat, dnat: no direction, the match then
 * '->' and the target).
 */
static void parse_rule_or_nat(struct parser *ps, enum pc_verdict verdict,
			      enum pc_ast_stmt_kind kind, const enum pc_nat_kind *nat)
{
	struct pc_location loc = ps->tok.loc;
	struct pc_ast_stmt *s;
	struct pc_ast_rule r;
	struct pc_ast_match *m = NULL;
	size_t n = 0, cap = 0;
	bool seen_log = false, seen_limit = false, seen_comment = false;
	size_t errors0;   /* lexer errors before the rule */
	const char *nat_to = NULL;
	struct pc_location nat_to_loc = { 0 };

	memset(&r, 0, sizeof(r));
	r.verdict = verdict;
	errors0 = pc_diag_count(ps->diag, PC_SEV_ERROR) - ps->reported;
	next(ps);
	if (nat) {
		r.nat = true;
		/* the `on` of masquerade and snat is the leaving interface */
		r.dir = *nat == PC_NAT_DNAT ? PC_DIR_IN : PC_DIR_OUT;
	} else if (!parse_direction(ps, &r.dir)) {
		goto fail;
	}
	while (!at_end(ps)) {
		if (nat && at(ps, PC_TOK_ARROW)) {
			if (*nat == PC_NAT_MASQUERADE) {
				perror_at(ps, &ps->tok.loc,
					  "masquerade takes no '->': it translates to the address of the leaving interface (snat ... -> ADDR for a fixed one)");
				goto fail;
			}
			next(ps);
			if (!at(ps, PC_TOK_WORD)) {
				expected(ps, *nat == PC_NAT_DNAT ? "an address: ADDR, ADDR:PORT or [IPv6]:PORT" :
								   "an address");
				goto fail;
			}
			nat_to = ps->tok.text;
			nat_to_loc = ps->tok.loc;
			next(ps);
			continue;
		}
		if (nat_to && !at_word(ps, "comment")) {
			expected(ps, "end of line or a comment after the NAT target");
			goto fail;
		}
		struct pc_location kw = ps->tok.loc;
		bool done = false;

		/* what a lexer error left of a word is no clause: skip it
		 * silently; a lexer error silences nothing after that */
		if (pc_diag_count(ps->diag, PC_SEV_ERROR) > ps->errors_before && !at_clause(ps) &&
		    glued(ps)) {
			while (!at_end(ps) && !at_clause(ps))
				next(ps);
			continue;
		}
		ps->errors_before = pc_diag_count(ps->diag, PC_SEV_ERROR);
		if (at(ps, PC_TOK_COMMA) && n && !m[n - 1].list.braced) {
			/* habits (issue 14): `port 80,443/tcp` */
			perror_at(ps, &ps->tok.loc,
				  "several items of one match go in braces: %s { %s, ... }",
				  match_word_of(m[n - 1].kind), m[n - 1].list.n ? m[n - 1].list.v[0].text : "A");
			goto resync;
		}
		if (!at(ps, PC_TOK_WORD)) {
			expected(ps, "a match (service, port, class, proto, from, to, icmp, icmpv6), on, out on, log, limit or comment");
			goto resync;
		}
		for (size_t i = 0; i < PC_ARRAY_SIZE(match_words); i++) {
			if (strcmp(ps->tok.text, match_words[i].word) != 0)
				continue;
			for (size_t j = 0; j < n; j++)
				if (m[j].kind == match_words[i].kind) {
					perror_at(ps, &kw, "'%s' given twice in one rule: use a list { … }",
						  match_words[i].word);
					goto resync;
				}
			next(ps);
			m = xgrow(m, &cap, n + 1, sizeof(*m));
			m[n].kind = match_words[i].kind;
			m[n].loc = kw;
			m[n].negated = false;
			/* matches (issue 14): from not ADDRS, to not ADDRS */
			if ((m[n].kind == PC_AST_MATCH_FROM || m[n].kind == PC_AST_MATCH_TO) &&
			    at_word(ps, "not")) {
				m[n].negated = true;
				next(ps);
			}
			if (!parse_list(ps, &m[n].list, false, false))
				goto resync;
			n++;
			done = true;
			break;
		}
		if (done)
			continue;
		if (at_word(ps, "on") || at_word(ps, "out")) {
			if (!parse_rule_iface(ps, &r))
				goto resync;
		} else if (at_word(ps, "log")) {
			if (seen_log) {
				perror_at(ps, &kw, "'log' given twice in one rule");
				goto resync;
			}
			seen_log = true;
			r.log = true;
			r.log_loc = kw;
			next(ps);
			if (at(ps, PC_TOK_STRING)) {
				r.log_prefix = ps->tok.text;
				r.log_loc = ps->tok.loc;
				next(ps);
			}
			/* matches (issue 14): log [PREFIX] group N, to NFLOG */
			if (at_word(ps, "group")) {
				char *end;
				unsigned long g;

				next(ps);
				errno = 0;
				g = at(ps, PC_TOK_WORD) ? strtoul(ps->tok.text, &end, 10) : 70000;
				if (!at(ps, PC_TOK_WORD) || *end || errno || g > 65535 ||
				    !pc_all_digits(ps->tok.text)) {
					expected(ps, "a netlink log group number 0-65535 after 'group'");
					goto resync;
				}
				r.log_nflog = true;
				r.log_group = (uint16_t)g;
				next(ps);
			}
		} else if (at_word(ps, "limit")) {
			if (seen_limit) {
				perror_at(ps, &kw, "'limit' given twice in one rule");
				goto resync;
			}
			seen_limit = true;
			if (!parse_limit(ps, &r))
				goto resync;
		} else if (at_word(ps, "comment")) {
			if (seen_comment) {
				perror_at(ps, &kw, "'comment' given twice in one rule");
				goto resync;
			}
			seen_comment = true;
			next(ps);
			if (!at(ps, PC_TOK_STRING)) {
				expected(ps, "a quoted comment");
				goto resync;
			}
			r.comment = ps->tok.text;
			r.comment_loc = ps->tok.loc;
			next(ps);
		} else if (ps->tok.text[0] == '-') {
			iptables_hint(ps, &kw);
			goto resync;
		} else {
			perror_at(ps, &kw, "unknown keyword '%s' in rule (expected one of: %s)",
				  ps->tok.text,
				  "service, port, class, proto, from, to, icmp, icmpv6, on, log, limit, comment");
			goto resync;
		}
		continue;
resync:
		/*
		 * habits (issue 14): every error of a line is reported. Skip to
		 * the next clause keyword (past the bad token) and go on; the
		 * rule itself is dropped.
		 */
		ps->bad_line = false;
		ps->errors_before = pc_diag_count(ps->diag, PC_SEV_ERROR);
		if (!at_end(ps))
			next(ps);
		while (!at_end(ps) && !at_clause(ps))
			next(ps);
	}
	/*
	 * A rule with parse errors is still resolved, for the errors of the
	 * clauses that parsed (the errors keep it out of any output); one the
	 * lexer cut into pieces is not: its words are not what was written.
	 */
	if (pc_diag_count(ps->diag, PC_SEV_ERROR) - ps->reported > errors0) {
		free(m);
		return;
	}
	if (nat && *nat != PC_NAT_MASQUERADE && !nat_to) {
		expected(ps, *nat == PC_NAT_DNAT ? "'-> ADDR[:PORT]' (the translated destination)" :
						   "'-> ADDR' (the translated source)");
		goto fail;
	}
	if (kind == PC_AST_EXPECT && (seen_log || seen_limit)) {
		perror_at(ps, seen_log ? &r.log_loc : &r.limit_loc,
			  "an expect states what packets get: no log or limit");
		goto fail;
	}
	s = add_stmt(ps, nat ? PC_AST_NAT : kind, &loc);
	r.n_matches = n;
	r.matches = pc_arena_memdup(ps->arena, m, n * sizeof(*m));
	s->rule = r;
	if (nat) {
		s->nat = *nat;
		s->nat_to = nat_to;
		s->nat_to_loc = nat_to_loc;
	}
	free(m);
	return;
fail:
	free(m);
	skip_line(ps);
}

static void parse_rule(struct parser *ps, enum pc_verdict verdict,
		       enum pc_ast_stmt_kind kind)
{
	parse_rule_or_nat(ps, verdict, kind, NULL);
}

/* True when @real is @dir or lies below it. */
static bool under(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/*
 * What an include may read, checked on the resolved path so that a
 * symlink cannot lead around it. Reports and returns false otherwise.
 */
static bool include_allowed(struct parser *ps, const struct pc_location *loc,
			    const char *path, const char *real)
{
	static const char *const kernel_dirs[] = { "/proc", "/sys", "/dev" };
	const struct pc_ast *ast = ps->ast;
	struct stat st;

	/* kernel interfaces: endless, changing or with side effects on read */
	for (size_t i = 0; i < PC_ARRAY_SIZE(kernel_dirs); i++)
		if (under(real, kernel_dirs[i])) {
			perror_at(ps, loc, "cannot include '%s': files under %s are not policies",
				  path, kernel_dirs[i]);
			return false;
		}
	/* a device or FIFO could be endless: only regular files */
	if (stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
		perror_at(ps, loc, "cannot include '%s': not a regular file", path);
		return false;
	}
	for (size_t i = 0; i < ps->depth; i++) {
		struct pc_buf b;

		if (strcmp(ps->stack[i].real, real) != 0)
			continue;
		pc_buf_init(&b);
		for (size_t j = i; j < ps->depth; j++)
			pc_buf_printf(&b, "%s -> ", ps->stack[j].name);
		pc_buf_puts(&b, path);
		perror_at(ps, loc, "include cycle: %s", b.data);
		pc_buf_finish(&b);
		return false;
	}
	/* twice would define its groups twice or repeat its rules, and
	 * include diamonds would multiply the work: once only */
	for (size_t i = 0; i < ast->n_included; i++)
		if (strcmp(ast->included[i].real, real) == 0) {
			perror_at(ps, loc, "'%s' is already included (at %s:%u)", path,
				  ast->included[i].loc.file, ast->included[i].loc.line);
			return false;
		}
	if (ps->depth >= PC_MAX_INCLUDE_DEPTH) {
		perror_at(ps, loc, "includes nested more than %d deep", PC_MAX_INCLUDE_DEPTH);
		return false;
	}
	if (ast->n_included >= PC_MAX_INCLUDES) {
		perror_at(ps, loc, "more than %d files included", PC_MAX_INCLUDES);
		return false;
	}
	return true;
}

static struct cached_include *cache_find(const struct pc_include_cache *c,
					 const char *name, const char *real)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ent[i].name, name) == 0 && strcmp(c->ent[i].real, real) == 0)
			return &c->ent[i];
	return NULL;
}

/*
 * Adds what a fresh parse of @e would add, when that parse would report
 * nothing: none of its nested files on the include stack (a cycle) or
 * already included, and the depth, count and size limits kept. Returns
 * false, changing nothing, otherwise: the file is then parsed afresh and
 * reports what it reports.
 */
static bool splice_cached(struct parser *ps, const struct cached_include *e,
			  const struct pc_location *loc)
{
	struct pc_ast *ast = ps->ast;
	size_t depth = ps->depth + 1;

	if (e->height && depth + e->height > PC_MAX_INCLUDE_DEPTH)
		return false;
	if (ast->n_included + 1 + e->n_nested > PC_MAX_INCLUDES ||
	    ast->included_bytes + e->bytes > PC_MAX_INCLUDE_BYTES)
		return false;
	for (size_t k = 0; k < e->n_nested; k++) {
		for (size_t i = 0; i < ps->depth; i++)
			if (strcmp(ps->stack[i].real, e->nested[k].real) == 0)
				return false;
		for (size_t i = 0; i < ast->n_included; i++)
			if (strcmp(ast->included[i].real, e->nested[k].real) == 0)
				return false;
	}
	ast->included = xgrow(ast->included, &ast->cap_included,
			      ast->n_included + 1 + e->n_nested, sizeof(*ast->included));
	ast->included[ast->n_included].real = e->real;
	ast->included[ast->n_included].loc = *loc;
	ast->n_included++;
	memcpy(&ast->included[ast->n_included], e->nested, e->n_nested * sizeof(*e->nested));
	ast->n_included += e->n_nested;
	ast->included_bytes += e->bytes;
	ast->stmts = xgrow(ast->stmts, &ast->cap, ast->n + e->n_stmts, sizeof(*ast->stmts));
	memcpy(&ast->stmts[ast->n], e->stmts, e->n_stmts * sizeof(*e->stmts));
	ast->n += e->n_stmts;
	if (depth + e->height > ps->cache->deepest)
		ps->cache->deepest = depth + e->height;
	return true;
}

static void parse_include(struct parser *ps)
{
	struct pc_ast *ast = ps->ast;
	struct pc_include_cache *cache = ps->cache;
	struct pc_arena *arena = cache ? cache->arena : ps->arena;
	struct pc_location loc = ps->tok.loc;
	char *dir, *path, *real, *text;
	const char *name;
	size_t len, first_stmt, first_nested, bytes_before, diags_before = 0, deepest = 0;

	next(ps);
	if (!at(ps, PC_TOK_STRING)) {
		expected(ps, "a quoted file name");
		skip_line(ps);
		return;
	}
	loc = ps->tok.loc;
	if (ps->tok.text[0] == '/') {
		path = xstrdup(ps->tok.text);
	} else {
		char *tmp = xstrdup(ps->lx.file);

		dir = dirname(tmp);
		path = strcmp(dir, ".") == 0 ? xstrdup(ps->tok.text)
					     : xasprintf("%s/%s", dir, ps->tok.text);
		free(tmp);
	}
	next(ps);
	if (!at_end(ps)) {
		expected(ps, "end of line after include");
		skip_line(ps);
		free(path);
		return;
	}
	real = realpath(path, NULL);
	if (!real) {
		perror_at(ps, &loc, "cannot include '%s': %s", path, strerror(errno));
		free(path);
		return;
	}
	if (!include_allowed(ps, &loc, path, real)) {
		free(real);
		free(path);
		return;
	}
	if (cache) {
		const struct cached_include *e = cache_find(cache, path, real);

		if (e && splice_cached(ps, e, &loc)) {
			free(real);
			free(path);
			return;
		}
	}
	/* read what was checked, not what the name may point to by now */
	text = pc_read_file(real, &len);
	if (!text) {
		perror_at(ps, &loc, "cannot include '%s': %s", path, strerror(errno));
		free(real);
		free(path);
		return;
	}
	if (ast->included_bytes + len > PC_MAX_INCLUDE_BYTES) {
		perror_at(ps, &loc, "cannot include '%s': the included files hold more than %u MiB in all",
			  path, PC_MAX_INCLUDE_BYTES >> 20);
		goto out;
	}
	/* a binary file is no policy: its lines would only be quoted as noise */
	if (memchr(text, '\0', len)) {
		perror_at(ps, &loc, "cannot include '%s': not a policy text file (it holds NUL bytes)",
			  path);
		goto out;
	}
	bytes_before = ast->included_bytes;
	ast->included_bytes += len;
	ast->included = xgrow(ast->included, &ast->cap_included, ast->n_included + 1,
			      sizeof(*ast->included));
	ast->included[ast->n_included].real = pc_arena_strdup(arena, real);
	ast->included[ast->n_included].loc = loc;
	ast->n_included++;
	name = pc_arena_strdup(arena, path);
	ps->stack[ps->depth].real = ast->included[ast->n_included - 1].real;
	ps->stack[ps->depth].name = name;
	first_stmt = ast->n;
	first_nested = ast->n_included;
	if (cache) {
		diags_before = pc_diag_count(ps->diag, PC_SEV_ERROR) +
			       pc_diag_count(ps->diag, PC_SEV_WARNING) +
			       pc_diag_count(ps->diag, PC_SEV_NOTE);
		deepest = cache->deepest;
		cache->deepest = ps->depth + 1;
	}
	parse_text(ps->ast, ps->diag, ps->stack, ps->depth + 1, name, text, len, arena, cache);
	if (cache) {
		size_t height = cache->deepest - (ps->depth + 1);

		if (pc_diag_count(ps->diag, PC_SEV_ERROR) + pc_diag_count(ps->diag, PC_SEV_WARNING) +
		    pc_diag_count(ps->diag, PC_SEV_NOTE) == diags_before &&
		    !cache_find(cache, name, ast->included[first_nested - 1].real)) {
			struct cached_include *e;

			cache->ent = xgrow(cache->ent, &cache->cap, cache->n + 1, sizeof(*cache->ent));
			e = &cache->ent[cache->n++];
			e->name = name;
			e->real = ast->included[first_nested - 1].real;
			e->n_stmts = ast->n - first_stmt;
			e->stmts = pc_arena_memdup(cache->arena, &ast->stmts[first_stmt],
						   e->n_stmts * sizeof(*e->stmts));
			e->n_nested = ast->n_included - first_nested;
			e->nested = pc_arena_memdup(cache->arena, &ast->included[first_nested],
						    e->n_nested * sizeof(*e->nested));
			e->bytes = ast->included_bytes - bytes_before;
			e->height = height;
		}
		if (deepest > cache->deepest)
			cache->deepest = deepest;
	}
out:
	free(text);
	free(real);
	free(path);
}

/* Relative to the directory of the file being parsed, as include is. */
static char *relative_path(const struct parser *ps, const char *given)
{
	char *tmp, *dir, *path;

	if (given[0] == '/')
		return xstrdup(given);
	tmp = xstrdup(ps->lx.file);
	dir = dirname(tmp);
	path = strcmp(dir, ".") == 0 ? xstrdup(given) : xasprintf("%s/%s", dir, given);
	free(tmp);
	return path;
}

/* `hosts NAME = file "PATH"`: the resolver reads the list. */
static void parse_hosts_file(struct parser *ps, const struct pc_location *loc,
			     const char *name, const struct pc_location *name_loc)
{
	struct pc_ast_stmt *s;
	struct pc_location file_loc;
	char *path;

	next(ps);
	if (!at(ps, PC_TOK_STRING)) {
		expected(ps, "a quoted file name after 'file'");
		skip_line(ps);
		return;
	}
	file_loc = ps->tok.loc;
	path = relative_path(ps, ps->tok.text);
	next(ps);
	if (!at_end(ps)) {
		expected(ps, "end of line");
		skip_line(ps);
		free(path);
		return;
	}
	s = add_stmt(ps, PC_AST_HOSTS, loc);
	s->name = name;
	s->name_loc = *name_loc;
	s->hosts_file = pc_arena_strdup(ps->arena, path);
	s->hosts_file_loc = file_loc;
	free(path);
}

/*
 * A duration: "3600", "90s", "10m", "1h30m", "7d" (s, m, h, d, as nft
 * writes them). 0 on error.
 */
uint32_t pc_ast_duration_parse(const char *text)
{
	uint64_t total = 0;
	const char *p = text;

	if (pc_all_digits(text)) {
		unsigned long v = strlen(text) <= 8 ? strtoul(text, NULL, 10) : 0;

		return (uint32_t)v;
	}
	while (*p) {
		uint64_t v = 0, mult;
		const char *start = p;

		while (*p >= '0' && *p <= '9' && p - start < 8)
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (p == start)
			return 0;
		switch (*p++) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return 0;
		}
		total += v * mult;
	}
	return total > PC_MAX_TIMEOUT ? 0 : (uint32_t)total;
}

/* `hosts NAME = dynamic [timeout DURATION]`: filled at run time. */
static void parse_hosts_dynamic(struct parser *ps, const struct pc_location *loc,
				const char *name, const struct pc_location *name_loc)
{
	struct pc_ast_stmt *s;
	uint32_t timeout = 0;

	next(ps);
	if (at_word(ps, "timeout")) {
		next(ps);
		if (!at(ps, PC_TOK_WORD) || !(timeout = pc_ast_duration_parse(ps->tok.text))) {
			perror_at(ps, &ps->tok.loc,
				  "expected a duration after 'timeout' (such as 3600, 90s, 10m, 1h30m or 7d; at most 365d)");
			skip_line(ps);
			return;
		}
		next(ps);
	}
	if (!at_end(ps)) {
		expected(ps, "end of line (or 'timeout DURATION')");
		skip_line(ps);
		return;
	}
	s = add_stmt(ps, PC_AST_HOSTS, loc);
	s->name = name;
	s->name_loc = *name_loc;
	s->hosts_dynamic = true;
	s->hosts_timeout = timeout;
}

static void parse_group(struct parser *ps, enum pc_ast_stmt_kind kind)
{
	struct pc_location loc = ps->tok.loc;
	struct pc_ast_stmt *s;
	struct pc_ast_list list;
	const char *name;
	struct pc_location name_loc;

	next(ps);
	if (!at(ps, PC_TOK_WORD)) {
		expected(ps, "a group name");
		goto fail;
	}
	name = ps->tok.text;
	name_loc = ps->tok.loc;
	next(ps);
	if (!at(ps, PC_TOK_EQUALS)) {
		expected(ps, "'='");
		goto fail;
	}
	next(ps);
	if (kind == PC_AST_HOSTS && at_word(ps, "file")) {
		parse_hosts_file(ps, &loc, name, &name_loc);
		return;
	}
	if (kind == PC_AST_HOSTS && at_word(ps, "dynamic")) {
		parse_hosts_dynamic(ps, &loc, name, &name_loc);
		return;
	}
	if (!parse_list(ps, &list, kind == PC_AST_SERVICES, true))
		goto fail;
	if (!at_end(ps)) {
		expected(ps, "end of line");
		goto fail;
	}
	s = add_stmt(ps, kind, &loc);
	s->name = name;
	s->name_loc = name_loc;
	s->list = list;
	return;
fail:
	skip_line(ps);
}

static void parse_statement(struct parser *ps)
{
	struct pc_location loc = ps->tok.loc;
	struct pc_ast_stmt *s;
	enum pc_verdict verdict;

	ps->bad_line = false;
	ps->errors_before = pc_diag_count(ps->diag, PC_SEV_ERROR);
	if (!at(ps, PC_TOK_WORD)) {
		expected(ps, "a statement");
		skip_line(ps);
		return;
	}
	if (parse_verdict_word(ps->tok.text, &verdict)) {
		parse_rule(ps, verdict, PC_AST_RULE);
		return;
	}
	if (at_word(ps, "expect")) {
		/* expect VERDICT DIRECTION ...: the rule syntax after the word */
		next(ps);
		if (!at(ps, PC_TOK_WORD) || !parse_verdict_word(ps->tok.text, &verdict)) {
			expected(ps, "a verdict (allow, deny, reject) after expect");
			skip_line(ps);
			return;
		}
		{
			size_t before = ps->ast->n;

			parse_rule(ps, verdict, PC_AST_EXPECT);
			if (ps->ast->n > before) {
				s = ps->ast->stmts[ps->ast->n - 1];
				s->loc = loc;   /* the error points at `expect` */
			}
		}
		return;
	}
	for (unsigned k = 0; k < __PC_NAT_MAX; k++)
		if (at_word(ps, pc_nat_kind_name((enum pc_nat_kind)k))) {
			enum pc_nat_kind kind = (enum pc_nat_kind)k;

			parse_rule_or_nat(ps, PC_VERDICT_DENY, PC_AST_NAT, &kind);
			return;
		}
	if (at_word(ps, "include")) {
		parse_include(ps);
		return;
	}
	if (at_word(ps, "hosts")) {
		parse_group(ps, PC_AST_HOSTS);
		return;
	}
	if (at_word(ps, "services")) {
		parse_group(ps, PC_AST_SERVICES);
		return;
	}
	if (at_word(ps, "table") || at_word(ps, "option")) {
		enum pc_ast_stmt_kind kind = at_word(ps, "table") ? PC_AST_TABLE : PC_AST_OPTION;

		next(ps);
		if (!at(ps, PC_TOK_WORD)) {
			expected(ps, kind == PC_AST_TABLE ? "a table name" : "an option name");
			goto fail;
		}
		s = add_stmt(ps, kind, &loc);
		s->name = ps->tok.text;
		s->name_loc = ps->tok.loc;
		next(ps);
	} else if (at_word(ps, "transports")) {
		struct pc_ast_list list;

		next(ps);
		if (!parse_list(ps, &list, false, true))
			goto fail;
		s = add_stmt(ps, PC_AST_TRANSPORTS, &loc);
		s->list = list;
	} else if (at_word(ps, "default")) {
		enum pc_direction dir;

		next(ps);
		if (!parse_direction(ps, &dir))
			goto fail;
		if (!at(ps, PC_TOK_WORD) || !parse_verdict_word(ps->tok.text, &verdict)) {
			expected(ps, "allow, deny or reject");
			goto fail;
		}
		s = add_stmt(ps, PC_AST_DEFAULT, &loc);
		s->dir = dir;
		s->verdict = verdict;
		next(ps);
	} else if (ps->tok.text[0] == '-') {
		/* habits (issue 14): an iptables-save line pasted into a policy */
		perror_at(ps, &loc,
			  "'%s' starts an iptables command, not a portcullis statement: write the rule as VERDICT DIRECTION [MATCH ...], e.g. allow in service ssh (-j ACCEPT is allow, -j DROP deny, -j REJECT reject)",
			  ps->tok.text);
		goto fail;
	} else {
		perror_at(ps, &loc,
			  "unknown keyword '%s' (expected allow, deny, reject, default, hosts, services, transports, table, include or option)",
			  ps->tok.text);
		goto fail;
	}
	if (!at_end(ps)) {
		expected(ps, "end of line");
		goto fail;
	}
	return;
fail:
	skip_line(ps);
}

static void parse_text(struct pc_ast *ast, struct pc_diag *diag,
		       struct include_frame *stack, size_t depth,
		       const char *name, const char *text, size_t len,
		       struct pc_arena *arena, struct pc_include_cache *cache)
{
	struct parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.ast = ast;
	ps.arena = arena;
	ps.diag = diag;
	ps.stack = stack;
	ps.depth = depth;
	ps.cache = cache;
	pc_diag_add_source(diag, name, text, len);
	pc_lexer_init(&ps.lx, name, text, len, arena, diag);
	next(&ps);
	while (!at(&ps, PC_TOK_EOF)) {
		if (pc_diag_full(diag))
			break;
		if (at(&ps, PC_TOK_NEWLINE)) {
			next(&ps);
			continue;
		}
		parse_statement(&ps);
	}
}

static struct pc_ast *ast_create(struct pc_arena *arena, const char *name)
{
	struct pc_ast *ast = xzalloc(sizeof(*ast));

	ast->arena = arena;
	ast->top_file = name;
	return ast;
}

struct pc_ast *pc_ast_parse_buffer_cached(const char *name, const char *text,
					  size_t len, struct pc_arena *arena,
					  struct pc_diag *diag,
					  struct pc_include_cache *cache)
{
	struct include_frame stack[PC_MAX_INCLUDE_DEPTH + 1];
	const char *stored = pc_arena_strdup(arena, name);
	struct pc_ast *ast = ast_create(arena, stored);
	char *real = realpath(name, NULL);

	stack[0].real = pc_arena_strdup(arena, real ? real : name);
	stack[0].name = stored;
	free(real);
	if (cache)
		cache->deepest = 1;
	parse_text(ast, diag, stack, 1, stored, text, len, arena, cache);
	return ast;
}

struct pc_ast *pc_ast_parse_buffer(const char *name, const char *text,
				   size_t len, struct pc_arena *arena,
				   struct pc_diag *diag)
{
	return pc_ast_parse_buffer_cached(name, text, len, arena, diag, NULL);
}

struct pc_ast *pc_ast_parse_file_cached(const char *path, struct pc_arena *arena,
					struct pc_diag *diag, bool *sys_error,
					struct pc_include_cache *cache)
{
	struct pc_ast *ast;
	size_t len;
	char *text;

	*sys_error = false;
	text = pc_read_file(path, &len);
	if (!text) {
		pc_diag_error(diag, NULL, "cannot read '%s': %s", path, strerror(errno));
		*sys_error = true;
		return NULL;
	}
	ast = pc_ast_parse_buffer_cached(path, text, len, arena, diag, cache);
	free(text);
	return ast;
}

struct pc_ast *pc_ast_parse_file(const char *path, struct pc_arena *arena,
				 struct pc_diag *diag, bool *sys_error)
{
	return pc_ast_parse_file_cached(path, arena, diag, sys_error, NULL);
}

struct pc_include_cache *pc_include_cache_create(void)
{
	struct pc_include_cache *c = xzalloc(sizeof(*c));

	c->arena = pc_arena_create();
	return c;
}

void pc_include_cache_destroy(struct pc_include_cache *c)
{
	if (!c)
		return;
	free(c->ent);
	pc_arena_destroy(c->arena);
	free(c);
}

void pc_ast_destroy(struct pc_ast *ast)
{
	if (!ast)
		return;
	free(ast->stmts);
	free(ast->included);
	free(ast);
}
