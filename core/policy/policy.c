/* SPDX-License-Identifier: MIT */
#include "policy/policy.h"

#include "policy/ast.h"
#include "policy/resolve.h"
#include "ir/expect.h"
#include "common/util.h"

static struct pc_ir *finish(struct pc_ast *ast, struct pc_arena *arena,
			    const struct pc_registry *reg, unsigned flags,
			    struct pc_diag *diag)
{
	struct pc_ir *ir;

	/* resolve even after syntax errors: the statements that parsed may hold
	 * more errors, and every error is reported in one run */
	ir = pc_resolve(ast, arena, reg, !(flags & PC_POLICY_NO_LINT), diag);
	/* every command that reads a policy proves its `expect` statements */
	if (ir && !pc_ir_prove_expects(ir, diag)) {
		pc_ir_destroy(ir);
		ir = NULL;
	}
	return ir;
}

struct pc_ir *pc_policy_load(const char *path, const struct pc_registry *reg,
			     unsigned flags, struct pc_diag *diag,
			     bool *sys_error)
{
	return pc_policy_load_cached(path, reg, flags, diag, sys_error, NULL);
}

struct pc_ir *pc_policy_load_cached(const char *path, const struct pc_registry *reg,
				    unsigned flags, struct pc_diag *diag,
				    bool *sys_error, struct pc_include_cache *cache)
{
	struct pc_arena *arena = pc_arena_create();
	struct pc_resolver *rv;
	struct pc_ast *ast;
	struct pc_ir *ir;

	if (cache) {
		ast = pc_ast_parse_file_cached(path, arena, diag, sys_error, cache);
		if (!ast) {
			pc_arena_destroy(arena);
			return NULL;
		}
		return finish(ast, arena, reg, flags, diag);
	}
	/* one pass: each statement is resolved as it is parsed, and its tree
	 * freed (issue 15) */
	rv = pc_resolver_create(arena, reg, !(flags & PC_POLICY_NO_LINT), diag);
	ast = pc_ast_parse_file_resolving(path, arena, diag, sys_error, rv);
	if (!ast) {
		pc_resolver_finish(rv, NULL);
		pc_arena_destroy(arena);
		return NULL;
	}
	ir = pc_resolver_finish(rv, ast);
	/* every command that reads a policy proves its `expect` statements */
	if (ir && !pc_ir_prove_expects(ir, diag)) {
		pc_ir_destroy(ir);
		ir = NULL;
	}
	return ir;
}

struct pc_ir *pc_policy_load_buffer(const char *name, const char *text,
				    size_t len, const struct pc_registry *reg,
				    unsigned flags, struct pc_diag *diag)
{
	struct pc_arena *arena = pc_arena_create();
	struct pc_ast *ast = pc_ast_parse_buffer(name, text, len, arena, diag);

	return finish(ast, arena, reg, flags, diag);
}
