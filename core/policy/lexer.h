/* SPDX-License-Identifier: MIT */
/* The policy lexer: bytes to tokens, with locations. */
#ifndef PORTCULLIS_LEXER_H
#define PORTCULLIS_LEXER_H

#include <stddef.h>

#include <portcullis/diag.h>

struct pc_arena;

enum pc_tok {
	PC_TOK_EOF,
	PC_TOK_NEWLINE,   /* end of statement (never inside braces) */
	PC_TOK_WORD,      /* [A-Za-z0-9_:.+-]..., perhaps ending in '*';
			   * or [IPv6]:PORT, the bracketed address of a NAT target */
	PC_TOK_STRING,    /* "…", decoded */
	PC_TOK_VAR,       /* $name (text without '$') */
	PC_TOK_LBRACE,
	PC_TOK_RBRACE,
	PC_TOK_COMMA,
	PC_TOK_SLASH,
	PC_TOK_EQUALS,
	PC_TOK_ARROW,     /* -> of a NAT statement (routers) */
	__PC_TOK_MAX
};

struct pc_token {
	enum pc_tok kind;
	struct pc_location loc;
	const char *text;   /* arena copy for WORD, STRING, VAR (one for equal
			     * texts of a file: never write to it); else NULL */
};

struct pc_lexer {
	const char *file;        /* stored name used in locations */
	const char *p;
	const char *end;
	unsigned line;
	const char *line_start;
	int depth;               /* brace depth */
	struct pc_location brace_loc;
	struct pc_diag *diag;
	struct pc_arena *arena;
	/* every distinct token text once (issue 15: a million-rule policy
	 * has ten million words, mostly the same few hundred): open
	 * addressing, a power of two, at most half full */
	const char **intern;
	size_t cap_intern, n_intern;
};

void pc_lexer_init(struct pc_lexer *lx, const char *file, const char *text,
		   size_t len, struct pc_arena *arena, struct pc_diag *diag);
void pc_lexer_next(struct pc_lexer *lx, struct pc_token *tok);
/* Frees what pc_lexer_init() allocated (the texts stay in the arena). */
void pc_lexer_fini(struct pc_lexer *lx);
const char *pc_tok_name(enum pc_tok kind);

#endif
