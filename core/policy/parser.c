/* SPDX-License-Identifier: MIT */
/*
 * Recursive-descent parser: tokens to struct pc_ast. One statement per
 * line; after an error the rest of the line is skipped and parsing goes on
 * (pfctl-style resynchronisation at the newline).
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parser_internal.h"
#include "policy/resolve.h"

void ps_next(struct parser *ps)
{
	pc_lexer_next(&ps->lx, &ps->tok);
}

bool ps_at(const struct parser *ps, enum pc_tok kind)
{
	return ps->tok.kind == kind;
}

bool ps_at_word(const struct parser *ps, const char *w)
{
	return ps->tok.kind == PC_TOK_WORD && strcmp(ps->tok.text, w) == 0;
}

bool ps_at_end(const struct parser *ps)
{
	return ps_at(ps, PC_TOK_NEWLINE) || ps_at(ps, PC_TOK_EOF);
}

void ps_describe(const struct pc_token *t, char *buf, size_t n)
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
void perror_at(struct parser *ps, const struct pc_location *loc,
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

void ps_expected(struct parser *ps, const char *what)
{
	char got[96];

	ps_describe(&ps->tok, got, sizeof(got));
	perror_at(ps, &ps->tok.loc, "expected %s, got %s", what, got);
}

void ps_skip_line(struct parser *ps)
{
	while (!ps_at_end(ps))
		ps_next(ps);
}

struct pc_ast_stmt *add_stmt(struct parser *ps, enum pc_ast_stmt_kind kind,
			     const struct pc_location *loc)
{
	struct pc_ast *ast = ps->ast;
	struct pc_ast_stmt *s;

	s = pc_arena_alloc(ps->tree, sizeof(*s));
	ast->stmts = xgrow(ast->stmts, &ast->cap, ast->n + 1, sizeof(*ast->stmts));
	ast->stmts[ast->n++] = s;
	s->kind = kind;
	s->loc = *loc;
	return s;
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

	ps_next(ps);
	if (!ps_at(ps, PC_TOK_STRING)) {
		ps_expected(ps, "a quoted file name after 'file'");
		ps_skip_line(ps);
		return;
	}
	file_loc = ps->tok.loc;
	path = relative_path(ps, ps->tok.text);
	ps_next(ps);
	if (!ps_at_end(ps)) {
		ps_expected(ps, "end of line");
		ps_skip_line(ps);
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

	ps_next(ps);
	if (ps_at_word(ps, "timeout")) {
		ps_next(ps);
		if (!ps_at(ps, PC_TOK_WORD) || !(timeout = pc_ast_duration_parse(ps->tok.text))) {
			perror_at(ps, &ps->tok.loc,
				  "expected a duration after 'timeout' (such as 3600, 90s, 10m, 1h30m or 7d; at most 365d)");
			ps_skip_line(ps);
			return;
		}
		ps_next(ps);
	}
	if (!ps_at_end(ps)) {
		ps_expected(ps, "end of line (or 'timeout DURATION')");
		ps_skip_line(ps);
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

	ps_next(ps);
	if (!ps_at(ps, PC_TOK_WORD)) {
		ps_expected(ps, "a group name");
		goto fail;
	}
	name = ps->tok.text;
	name_loc = ps->tok.loc;
	ps_next(ps);
	if (!ps_at(ps, PC_TOK_EQUALS)) {
		ps_expected(ps, "'='");
		goto fail;
	}
	ps_next(ps);
	if (kind == PC_AST_HOSTS && ps_at_word(ps, "file")) {
		parse_hosts_file(ps, &loc, name, &name_loc);
		return;
	}
	if (kind == PC_AST_HOSTS && ps_at_word(ps, "dynamic")) {
		parse_hosts_dynamic(ps, &loc, name, &name_loc);
		return;
	}
	if (!parse_list(ps, &list, kind == PC_AST_SERVICES, true))
		goto fail;
	if (!ps_at_end(ps)) {
		ps_expected(ps, "end of line");
		goto fail;
	}
	s = add_stmt(ps, kind, &loc);
	s->name = name;
	s->name_loc = name_loc;
	s->list = list;
	return;
fail:
	ps_skip_line(ps);
}

/*
 * Where a rule's statement goes: with a resolver, into the arena that is
 * freed once its statements are resolved (ast.h); returns the arena to
 * put back.
 */
static struct pc_arena *rule_tree(struct parser *ps)
{
	struct pc_arena *keep = ps->tree;

	if (ps->ast->eager && ps->tree == ps->ast->tree)
		ps->tree = ps->ast->rules;
	return keep;
}

static void parse_statement(struct parser *ps)
{
	struct pc_arena *keep;
	struct pc_location loc = ps->tok.loc;
	struct pc_ast_stmt *s;
	enum pc_verdict verdict;

	ps->bad_line = false;
	ps->errors_before = pc_diag_count(ps->diag, PC_SEV_ERROR);
	if (!ps_at(ps, PC_TOK_WORD)) {
		ps_expected(ps, "a statement");
		ps_skip_line(ps);
		return;
	}
	if (parse_verdict_word(ps->tok.text, &verdict)) {
		keep = rule_tree(ps);
		parse_rule(ps, verdict, PC_AST_RULE);
		ps->tree = keep;
		return;
	}
	if (ps_at_word(ps, "expect")) {
		/* expect VERDICT DIRECTION ...: the rule syntax after the word */
		ps_next(ps);
		if (!ps_at(ps, PC_TOK_WORD) || !parse_verdict_word(ps->tok.text, &verdict)) {
			ps_expected(ps, "a verdict (allow, deny, reject) after expect");
			ps_skip_line(ps);
			return;
		}
		{
			size_t before = ps->ast->n;

			keep = rule_tree(ps);
			parse_rule(ps, verdict, PC_AST_EXPECT);
			ps->tree = keep;
			if (ps->ast->n > before) {
				s = ps->ast->stmts[ps->ast->n - 1];
				s->loc = loc;   /* the error points at `expect` */
			}
		}
		return;
	}
	for (unsigned k = 0; k < __PC_NAT_MAX; k++)
		if (ps_at_word(ps, pc_nat_kind_name((enum pc_nat_kind)k))) {
			enum pc_nat_kind kind = (enum pc_nat_kind)k;

			keep = rule_tree(ps);
			parse_rule_or_nat(ps, PC_VERDICT_DENY, PC_AST_NAT, &kind);
			ps->tree = keep;
			return;
		}
	if (ps_at_word(ps, "include")) {
		parse_include(ps);
		return;
	}
	if (ps_at_word(ps, "hosts")) {
		parse_group(ps, PC_AST_HOSTS);
		return;
	}
	if (ps_at_word(ps, "services")) {
		parse_group(ps, PC_AST_SERVICES);
		return;
	}
	if (ps_at_word(ps, "table") || ps_at_word(ps, "option")) {
		enum pc_ast_stmt_kind kind = ps_at_word(ps, "table") ? PC_AST_TABLE : PC_AST_OPTION;

		ps_next(ps);
		if (!ps_at(ps, PC_TOK_WORD)) {
			ps_expected(ps, kind == PC_AST_TABLE ? "a table name" : "an option name");
			goto fail;
		}
		s = add_stmt(ps, kind, &loc);
		s->name = ps->tok.text;
		s->name_loc = ps->tok.loc;
		ps_next(ps);
	} else if (ps_at_word(ps, "transports")) {
		struct pc_ast_list list;

		ps_next(ps);
		if (!parse_list(ps, &list, false, true))
			goto fail;
		s = add_stmt(ps, PC_AST_TRANSPORTS, &loc);
		s->list = list;
	} else if (ps_at_word(ps, "default")) {
		enum pc_direction dir;

		ps_next(ps);
		if (!parse_direction(ps, &dir))
			goto fail;
		if (!ps_at(ps, PC_TOK_WORD) || !parse_verdict_word(ps->tok.text, &verdict)) {
			ps_expected(ps, "allow, deny or reject");
			goto fail;
		}
		s = add_stmt(ps, PC_AST_DEFAULT, &loc);
		s->dir = dir;
		s->verdict = verdict;
		ps_next(ps);
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
	if (!ps_at_end(ps)) {
		ps_expected(ps, "end of line");
		goto fail;
	}
	return;
fail:
	ps_skip_line(ps);
}

/*
 * With a resolver, the statements parsed so far are resolved now, in
 * order, while no error was reported: after one, they wait for
 * pc_resolver_finish(), as without a resolver (an error stops the parse
 * or the resolution once the error limit is reached, and which errors
 * are shown then depends on the order they came in). Once every rule in
 * the rules' arena is resolved, it is made anew now and then.
 */
#define RULES_PER_ARENA 1024

static void resolve_parsed(struct parser *ps)
{
	struct pc_ast *ast = ps->ast;

	if (!ast->eager || pc_diag_has_errors(ps->diag))
		return;
	while (ast->done < ast->n) {
		if (pc_diag_has_errors(ps->diag))
			return;   /* the rest wait for pc_resolver_finish() */
		pc_resolver_stmt(ast->eager, ast->stmts[ast->done]);
		ast->done++;
		ast->rules_in_arena++;
	}
	/* nothing points at the statements resolved: a group, the table or
	 * the transports (which the resolver keeps) are not in @rules */
	ast->n = ast->done = 0;
	if (ast->rules_in_arena >= RULES_PER_ARENA) {
		pc_arena_destroy(ast->rules);
		ast->rules = pc_arena_create();
		ast->rules_in_arena = 0;
	}
}

void parse_text(struct pc_ast *ast, struct pc_diag *diag,
		struct include_frame *stack, size_t depth,
		const char *name, const char *text, size_t len,
		struct pc_arena *arena, struct pc_include_cache *cache)
{
	struct parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.ast = ast;
	ps.arena = arena;
	/* a cached include keeps its tree with the cache, to share it */
	ps.tree = arena == ast->arena ? ast->tree : arena;
	ps.diag = diag;
	ps.stack = stack;
	ps.depth = depth;
	ps.cache = cache;
	pc_diag_add_source(diag, name, text, len);
	pc_lexer_init(&ps.lx, name, text, len, arena, diag);
	ps_next(&ps);
	while (!ps_at(&ps, PC_TOK_EOF)) {
		if (pc_diag_full(diag))
			break;
		if (ps_at(&ps, PC_TOK_NEWLINE)) {
			ps_next(&ps);
			continue;
		}
		parse_statement(&ps);
		resolve_parsed(&ps);
	}
	pc_lexer_fini(&ps.lx);
}

static struct pc_ast *ast_create(struct pc_arena *arena, const char *name)
{
	struct pc_ast *ast = xzalloc(sizeof(*ast));

	ast->arena = arena;
	ast->tree = pc_arena_create();
	ast->top_file = name;
	return ast;
}

static struct pc_ast *parse_buffer(const char *name, const char *text,
				   size_t len, struct pc_arena *arena,
				   struct pc_diag *diag,
				   struct pc_include_cache *cache,
				   struct pc_resolver *rv)
{
	struct include_frame stack[PC_MAX_INCLUDE_DEPTH + 1];
	const char *stored = pc_arena_strdup(arena, name);
	struct pc_ast *ast = ast_create(arena, stored);
	char *real = realpath(name, NULL);

	stack[0].real = pc_arena_strdup(arena, real ? real : name);
	stack[0].name = stored;
	free(real);
	/* an include cache keeps the statements it shares: none is freed */
	if (rv && !cache) {
		ast->eager = rv;
		ast->rules = pc_arena_create();
	}
	if (cache)
		cache->deepest = 1;
	parse_text(ast, diag, stack, 1, stored, text, len, arena, cache);
	return ast;
}

struct pc_ast *pc_ast_parse_buffer_cached(const char *name, const char *text,
					  size_t len, struct pc_arena *arena,
					  struct pc_diag *diag,
					  struct pc_include_cache *cache)
{
	return parse_buffer(name, text, len, arena, diag, cache, NULL);
}

struct pc_ast *pc_ast_parse_buffer(const char *name, const char *text,
				   size_t len, struct pc_arena *arena,
				   struct pc_diag *diag)
{
	return pc_ast_parse_buffer_cached(name, text, len, arena, diag, NULL);
}

static struct pc_ast *parse_file(const char *path, struct pc_arena *arena,
				 struct pc_diag *diag, bool *sys_error,
				 struct pc_include_cache *cache,
				 struct pc_resolver *rv)
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
	ast = parse_buffer(path, text, len, arena, diag, cache, rv);
	free(text);
	return ast;
}

struct pc_ast *pc_ast_parse_file_cached(const char *path, struct pc_arena *arena,
					struct pc_diag *diag, bool *sys_error,
					struct pc_include_cache *cache)
{
	return parse_file(path, arena, diag, sys_error, cache, NULL);
}

struct pc_ast *pc_ast_parse_file_resolving(const char *path, struct pc_arena *arena,
					   struct pc_diag *diag, bool *sys_error,
					   struct pc_resolver *rv)
{
	return parse_file(path, arena, diag, sys_error, NULL, rv);
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
	pc_arena_destroy(ast->tree);
	if (ast->rules)
		pc_arena_destroy(ast->rules);
	free(ast->stmts);
	free(ast->included);
	free(ast);
}
