/* SPDX-License-Identifier: MIT */
/*
 * What nft_lower.c and nft_check.c share (internal to backends/nft/): the
 * checks of what nftables can take, and the comment text of a rule.
 */
#ifndef PC_BACKENDS_NFT_CHECK_H
#define PC_BACKENDS_NFT_CHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/nft/nft_lower.h"

/* Room for any comment: a long file name is an error, reported in full. */
#define PC_NFT_COMMENT_BUF (PATH_MAX + 2 * PC_NFT_COMMENT_MAX)

/* Whether @s (may be NULL) follows nft's identifier syntax. */
bool pc_nft_identifier_ok(const char *s);

/* "FILE:LINE[ LABEL][ COMMENT]" into @buf, for rule @r of chain @dir. */
void pc_nft_rule_comment(const struct pc_rule *r, enum pc_direction dir,
			 char *buf, size_t size);

/* The comment of a map element's rule; the caller frees it. */
char *pc_nft_elem_comment(const struct pc_map_elem *e);

/* pc_nft_elem_comment() into @buf (PC_NFT_COMMENT_BUF bytes are room for any). */
void pc_nft_elem_comment_buf(const struct pc_map_elem *e, char *buf, size_t size);

/* @a and @b get the same pc_nft_elem_comment() (the same rule's elements). */
bool pc_nft_elem_same_comment(const struct pc_map_elem *a, const struct pc_map_elem *b);

/* Checks the strings rule @r puts into the ruleset, and @comment; errors to @diag. */
bool pc_nft_check_rule(const struct pc_rule *r, const char *comment,
		       struct pc_diag *diag);

/* Checks the table name of @ir; an error to @diag. */
bool pc_nft_check_table(const struct pc_ir *ir, struct pc_diag *diag);

#endif
