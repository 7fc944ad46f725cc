/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the parser share: its state and the token helpers.
 * Private to core/policy/: parser.c (statements, groups, the entry points),
 * parse_rule.c (rules, matches, NAT, expect), parse_include.c (includes and
 * the include cache).
 */
#ifndef PC_PARSER_INTERNAL_H
#define PC_PARSER_INTERNAL_H

#include "policy/ast.h"
#include "policy/lexer.h"
#include "common/util.h"

struct include_frame {
	const char *real;        /* realpath of the file */
	const char *name;
};

struct parser {
	struct pc_ast *ast;
	struct pc_arena *arena;   /* strings */
	struct pc_arena *tree;    /* statements, matches, lists (ast.h) */
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

/* parser.c */
/* Per-file state is in the lexer; includes recurse with a fresh parser. */
void parse_text(struct pc_ast *ast, struct pc_diag *diag,
		struct include_frame *stack, size_t depth,
		const char *name, const char *text, size_t len,
		struct pc_arena *arena, struct pc_include_cache *cache);
void ps_next(struct parser *ps);
bool ps_at(const struct parser *ps, enum pc_tok kind);
bool ps_at_word(const struct parser *ps, const char *w);
bool ps_at_end(const struct parser *ps);
void ps_describe(const struct pc_token *t, char *buf, size_t n);
__attribute__((format(printf, 3, 4)))
void perror_at(struct parser *ps, const struct pc_location *loc,
	       const char *fmt, ...);
void ps_expected(struct parser *ps, const char *what);
void ps_skip_line(struct parser *ps);
struct pc_ast_stmt *add_stmt(struct parser *ps, enum pc_ast_stmt_kind kind,
			     const struct pc_location *loc);

/* parse_rule.c */
bool parse_list(struct parser *ps, struct pc_ast_list *l, bool hints,
		bool bare_commas);
bool parse_direction(struct parser *ps, enum pc_direction *dir);
bool parse_verdict_word(const char *w, enum pc_verdict *v);
void parse_rule_or_nat(struct parser *ps, enum pc_verdict verdict,
		       enum pc_ast_stmt_kind kind, const enum pc_nat_kind *nat);
void parse_rule(struct parser *ps, enum pc_verdict verdict,
		enum pc_ast_stmt_kind kind);

/* parse_include.c */
void parse_include(struct parser *ps);

#endif
