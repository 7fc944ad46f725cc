/* SPDX-License-Identifier: MIT */
/* The resolver: syntax tree + registry -> IR. */
#ifndef PORTCULLIS_RESOLVE_H
#define PORTCULLIS_RESOLVE_H

#include <portcullis/diag.h>
#include <portcullis/ir.h>

#include "ir/addrset.h"
#include "policy/ast.h"

struct pc_registry;

/*
 * Resolves @ast into a new IR that takes ownership of @arena (which holds
 * the file names). Takes ownership of @ast too, and frees it as soon as
 * it is read (the IR does not point into it). Returns NULL on errors (then
 * @arena is destroyed too). With @lint, also reports the registry
 * warnings.
 */
struct pc_ir *pc_resolve(struct pc_ast *ast, struct pc_arena *arena,
			 const struct pc_registry *reg, bool lint,
			 struct pc_diag *diag);

/*
 * The same a statement at a time: pc_resolver_stmt() resolves one
 * statement (in the policy's order), pc_resolver_finish() the statements
 * of @ast from @ast->done on, then makes the IR as pc_resolve() does and
 * frees the resolver. A statement given to pc_resolver_stmt() may be
 * freed as soon as it returns, unless it defines a group, the table or
 * the transports (the resolver keeps pointers to those).
 */
struct pc_resolver;
struct pc_resolver *pc_resolver_create(struct pc_arena *arena,
				       const struct pc_registry *reg, bool lint,
				       struct pc_diag *diag);
void pc_resolver_stmt(struct pc_resolver *rv, const struct pc_ast_stmt *s);
struct pc_ir *pc_resolver_finish(struct pc_resolver *rv, struct pc_ast *ast);

/* Shadowing warnings over a resolved IR (lint.c). */
unsigned long long pc_lint_shadowing(const struct pc_ir *ir, struct pc_diag *diag);

#endif
