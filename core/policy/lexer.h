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
	const char *text;   /* arena copy for WORD, STRING, VAR; else NULL */
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
};

void pc_lexer_init(struct pc_lexer *lx, const char *file, const char *text,
		   size_t len, struct pc_arena *arena, struct pc_diag *diag);
void pc_lexer_next(struct pc_lexer *lx, struct pc_token *tok);
const char *pc_tok_name(enum pc_tok kind);

#endif
