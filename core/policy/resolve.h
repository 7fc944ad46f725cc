/* SPDX-License-Identifier: MIT */
/* The resolver: syntax tree + registry -> IR. */
#ifndef PORTCULLIS_RESOLVE_H
#define PORTCULLIS_RESOLVE_H

#include <portcullis/diag.h>
#include <portcullis/ir.h>

#include "policy/ast.h"

struct pc_registry;

/*
 * Resolves @ast into a new IR that takes ownership of @arena (which holds
 * the tree and the file names). Returns NULL on errors (then @arena is
 * destroyed too). With @lint, also reports the registry warnings.
 */
struct pc_ir *pc_resolve(struct pc_ast *ast, struct pc_arena *arena,
			 const struct pc_registry *reg, bool lint,
			 struct pc_diag *diag);

/* Shadowing warnings over a resolved IR (lint.c). */
void pc_lint_shadowing(const struct pc_ir *ir, struct pc_diag *diag);

/* Sorts and merges a port set in place. */
void pc_port_set_normalize(struct pc_port_set *s);
/* Sorts a prefix set and drops prefixes contained in others, in place. */
void pc_addr_set_normalize(struct pc_addr_set *s);
/* Clears the host bits of @a (the bits past its prefix length). */
void pc_prefix_mask(struct pc_addr *a);
/* True when prefix @outer contains prefix @inner (same family). */
bool pc_prefix_contains(const struct pc_addr *outer, const struct pc_addr *inner);
/* Parses "192.0.2.0", "2001:db8::" with optional @plen_text; reports on @diag. */
bool pc_addr_parse(const char *text, const char *plen_text, struct pc_addr *out,
		   char *err, size_t errlen);

#endif
