/* SPDX-License-Identifier: MIT */
/*
 * The parser's rules: VERDICT DIRECTION [MATCH ...], their matches, limits
 * and interfaces, NAT statements and expect (parser_internal.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parser_internal.h"

/* Optional "/ SUFFIX" after an item or a list. */
static bool parse_suffix(struct parser *ps, const char **suffix,
			 struct pc_location *loc)
{
	if (!ps_at(ps, PC_TOK_SLASH))
		return true;
	ps_next(ps);
	if (!ps_at(ps, PC_TOK_WORD)) {
		ps_expected(ps, "a protocol, prefix length or unit after '/'");
		return false;
	}
	*suffix = ps->tok.text;
	*loc = ps->tok.loc;
	ps_next(ps);
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
	if (hints && ps_at(ps, PC_TOK_WORD) && hint_of(ps->tok.text) != PC_AST_HINT_NONE) {
		it->hint = hint_of(ps->tok.text);
		ps_next(ps);
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
		ps_expected(ps, "a name, number, address, string or $group");
		return false;
	}
	it->loc = ps->tok.loc;
	it->text = ps->tok.text;
	ps_next(ps);
	return parse_suffix(ps, &it->suffix, &it->suffix_loc);
}

/*
 * A single item, or '{' item [,] item ... '}' [/SUFFIX]. With @bare_commas,
 * "a, b, c" without braces is a list too (transports, groups).
 */
bool parse_list(struct parser *ps, struct pc_ast_list *l, bool hints,
		bool bare_commas)
{
	struct pc_ast_item *v = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;

	memset(l, 0, sizeof(*l));
	l->loc = ps->tok.loc;
	if (ps_at(ps, PC_TOK_LBRACE)) {
		l->braced = true;
		ps_next(ps);
		while (!ps_at(ps, PC_TOK_RBRACE)) {
			if (ps_at_end(ps)) {
				ps_expected(ps, "'}'");
				ok = false;
				break;
			}
			if (ps_at(ps, PC_TOK_LBRACE)) {
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
			if (ps_at(ps, PC_TOK_COMMA))
				ps_next(ps);
		}
		if (ok) {
			ps_next(ps); /* '}' */
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
				ps_next(ps); /* ',' */
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			if (!parse_item(ps, &v[n], hints)) {
				ok = false;
				break;
			}
			n++;
		} while (bare_commas && ps_at(ps, PC_TOK_COMMA));
	}
	l->n = n;
	l->v = pc_arena_memdup(ps->tree, v, n * sizeof(*v));
	free(v);
	return ok;
}

bool parse_direction(struct parser *ps, enum pc_direction *dir)
{
	static const char *const names[] = { "in", "out", "forward" };

	for (unsigned i = 0; i < PC_ARRAY_SIZE(names); i++)
		if (ps_at_word(ps, names[i])) {
			*dir = (enum pc_direction)i;
			ps_next(ps);
			return true;
		}
	ps_expected(ps, "a direction (in, out, forward)");
	return false;
}

bool parse_verdict_word(const char *w, enum pc_verdict *v)
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
	{ "source-port", PC_AST_MATCH_SPORT },
	{ "to", PC_AST_MATCH_TO },
};


/* matches (issue 14): [burst M] [per source] after a rate. */
static bool parse_limit_tail(struct parser *ps, struct pc_ast_rule *r)
{
	if (ps_at_word(ps, "burst")) {
		char *end;
		unsigned long burst;

		ps_next(ps);
		errno = 0;
		burst = ps_at(ps, PC_TOK_WORD) ? strtoul(ps->tok.text, &end, 10) : 0;
		if (!ps_at(ps, PC_TOK_WORD) || !pc_all_digits(ps->tok.text) || *end || errno ||
		    burst == 0 || burst > 1000000) {
			ps_expected(ps, "a burst of 1 to 1000000 packets after 'burst'");
			return false;
		}
		r->limit_burst = (uint32_t)burst;
		ps_next(ps);
	}
	if (ps_at_word(ps, "per")) {
		ps_next(ps);
		if (!ps_at_word(ps, "source")) {
			ps_expected(ps, "'source' after 'per' (a bucket per source address)");
			return false;
		}
		r->limit_per_source = true;
		ps_next(ps);
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
	ps_next(ps);
	if (!ps_at(ps, PC_TOK_WORD)) {
		ps_expected(ps, "a rate such as 10/minute");
		return false;
	}
	errno = 0;
	rate = strtoul(ps->tok.text, &end, 10);
	if (*end || errno || rate == 0 || rate > 1000000 || ps->tok.text[0] == '-') {
		perror_at(ps, &ps->tok.loc, "rate must be a number from 1 to 1000000");
		return false;
	}
	r->limit_loc = ps->tok.loc;
	ps_next(ps);
	if (!ps_at(ps, PC_TOK_SLASH)) {
		ps_expected(ps, "'/' and a unit (second, minute, hour, day)");
		return false;
	}
	ps_next(ps);
	for (unsigned i = 0; i < PC_ARRAY_SIZE(units); i++)
		if (ps_at_word(ps, units[i].word)) {
			r->limit.rate = (uint32_t)rate;
			r->limit.unit = units[i].unit;
			r->limit_loc.len = ps->tok.loc.col + ps->tok.loc.len - r->limit_loc.col;
			ps_next(ps);
			return parse_limit_tail(ps, r);
		}
	ps_expected(ps, "a unit (second, minute, hour, day)");
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

	if (!ps_at(ps, PC_TOK_WORD))
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
		ps_next(ps);
		if (ps_at(ps, PC_TOK_WORD)) {
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
	bool out = ps_at_word(ps, "out");
	struct pc_ast_list **lp = out ? &r->oifaces : &r->ifaces;
	struct pc_ast_list *l;

	if (out) {
		ps_next(ps);
		if (!ps_at_word(ps, "on")) {
			ps_expected(ps, "'on' after 'out' (out on IFACE: the interface a forwarded packet leaves on)");
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
	if (*lp && (*lp)->n) {
		perror_at(ps, &kw, "'%s' given twice in one rule: use a list { … }",
			  out ? "out on" : "on");
		return false;
	}
	ps_next(ps);
	if (!out && ps_at_word(ps, "not")) {   /* matches (issue 14): on not IFACES */
		if (r->nat) {
			perror_at(ps, &ps->tok.loc, "'on not' is not for NAT: name the interfaces it is for");
			return false;
		}
		r->iface_not = true;
		ps_next(ps);
	}
	if (!ps_at(ps, PC_TOK_WORD) && !ps_at(ps, PC_TOK_STRING) && !ps_at(ps, PC_TOK_LBRACE)) {
		ps_expected(ps, "an interface name or a { list } of them");
		return false;
	}
	l = *lp = pc_arena_alloc(ps->tree, sizeof(*l));
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
void parse_rule_or_nat(struct parser *ps, enum pc_verdict verdict,
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
	ps_next(ps);
	if (nat) {
		r.nat = true;
		/* the `on` of masquerade and snat is the leaving interface */
		r.dir = *nat == PC_NAT_DNAT ? PC_DIR_IN : PC_DIR_OUT;
	} else if (!parse_direction(ps, &r.dir)) {
		goto fail;
	}
	while (!ps_at_end(ps)) {
		if (nat && ps_at(ps, PC_TOK_ARROW)) {
			if (*nat == PC_NAT_MASQUERADE) {
				perror_at(ps, &ps->tok.loc,
					  "masquerade takes no '->': it translates to the address of the leaving interface (snat ... -> ADDR for a fixed one)");
				goto fail;
			}
			ps_next(ps);
			if (!ps_at(ps, PC_TOK_WORD)) {
				ps_expected(ps, *nat == PC_NAT_DNAT ? "an address: ADDR, ADDR:PORT or [IPv6]:PORT" :
								   "an address");
				goto fail;
			}
			nat_to = ps->tok.text;
			nat_to_loc = ps->tok.loc;
			ps_next(ps);
			continue;
		}
		if (nat_to && !ps_at_word(ps, "comment")) {
			ps_expected(ps, "end of line or a comment after the NAT target");
			goto fail;
		}
		struct pc_location kw = ps->tok.loc;
		bool done = false;

		/* what a lexer error left of a word is no clause: skip it
		 * silently; a lexer error silences nothing after that */
		if (pc_diag_count(ps->diag, PC_SEV_ERROR) > ps->errors_before && !at_clause(ps) &&
		    glued(ps)) {
			while (!ps_at_end(ps) && !at_clause(ps))
				ps_next(ps);
			continue;
		}
		ps->errors_before = pc_diag_count(ps->diag, PC_SEV_ERROR);
		if (ps_at(ps, PC_TOK_COMMA) && n && !m[n - 1].list.braced) {
			/* habits (issue 14): `port 80,443/tcp` */
			perror_at(ps, &ps->tok.loc,
				  "several items of one match go in braces: %s { %s, ... }",
				  match_word_of(m[n - 1].kind), m[n - 1].list.n ? m[n - 1].list.v[0].text : "A");
			goto resync;
		}
		if (!ps_at(ps, PC_TOK_WORD)) {
			ps_expected(ps, "a match (service, port, class, proto, from, to, icmp, icmpv6), on, out on, log, limit or comment");
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
			ps_next(ps);
			m = xgrow(m, &cap, n + 1, sizeof(*m));
			m[n].kind = match_words[i].kind;
			m[n].loc = kw;
			m[n].negated = false;
			/* matches (issue 14): from not ADDRS, to not ADDRS */
			if ((m[n].kind == PC_AST_MATCH_FROM || m[n].kind == PC_AST_MATCH_TO) &&
			    ps_at_word(ps, "not")) {
				m[n].negated = true;
				ps_next(ps);
			}
			if (!parse_list(ps, &m[n].list, false, false))
				goto resync;
			n++;
			done = true;
			break;
		}
		if (done)
			continue;
		if (ps_at_word(ps, "on") || ps_at_word(ps, "out")) {
			if (!parse_rule_iface(ps, &r))
				goto resync;
		} else if (ps_at_word(ps, "log")) {
			if (seen_log) {
				perror_at(ps, &kw, "'log' given twice in one rule");
				goto resync;
			}
			seen_log = true;
			r.log = true;
			r.log_loc = kw;
			ps_next(ps);
			if (ps_at(ps, PC_TOK_STRING)) {
				r.log_prefix = ps->tok.text;
				r.log_loc = ps->tok.loc;
				ps_next(ps);
			}
			/* matches (issue 14): log [PREFIX] group N, to NFLOG */
			if (ps_at_word(ps, "group")) {
				char *end;
				unsigned long g;

				ps_next(ps);
				errno = 0;
				g = ps_at(ps, PC_TOK_WORD) ? strtoul(ps->tok.text, &end, 10) : 70000;
				if (!ps_at(ps, PC_TOK_WORD) || *end || errno || g > 65535 ||
				    !pc_all_digits(ps->tok.text)) {
					ps_expected(ps, "a netlink log group number 0-65535 after 'group'");
					goto resync;
				}
				r.log_nflog = true;
				r.log_group = (uint16_t)g;
				ps_next(ps);
			}
		} else if (ps_at_word(ps, "limit")) {
			if (seen_limit) {
				perror_at(ps, &kw, "'limit' given twice in one rule");
				goto resync;
			}
			seen_limit = true;
			if (!parse_limit(ps, &r))
				goto resync;
		} else if (ps_at_word(ps, "comment")) {
			if (seen_comment) {
				perror_at(ps, &kw, "'comment' given twice in one rule");
				goto resync;
			}
			seen_comment = true;
			ps_next(ps);
			if (!ps_at(ps, PC_TOK_STRING)) {
				ps_expected(ps, "a quoted comment");
				goto resync;
			}
			r.comment = ps->tok.text;
			r.comment_loc = ps->tok.loc;
			ps_next(ps);
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
		if (!ps_at_end(ps))
			ps_next(ps);
		while (!ps_at_end(ps) && !at_clause(ps))
			ps_next(ps);
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
		ps_expected(ps, *nat == PC_NAT_DNAT ? "'-> ADDR[:PORT]' (the translated destination)" :
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
	r.matches = pc_arena_memdup(ps->tree, m, n * sizeof(*m));
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
	ps_skip_line(ps);
}

void parse_rule(struct parser *ps, enum pc_verdict verdict,
		enum pc_ast_stmt_kind kind)
{
	parse_rule_or_nat(ps, verdict, kind, NULL);
}
