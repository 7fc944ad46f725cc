/* SPDX-License-Identifier: MIT */
/**
 * DOC: policy front end
 *
 * pc_policy_load() reads a policy file (and its includes), parses it,
 * resolves every name through the registry and returns the IR. Errors and
 * warnings are queued on @diag with their locations; on any error the
 * result is NULL. The source texts are registered on @diag so messages can
 * quote them; locations in the IR point at strings owned by the IR.
 */
#ifndef PORTCULLIS_POLICY_H
#define PORTCULLIS_POLICY_H

#include <portcullis/diag.h>
#include <portcullis/ir.h>

struct pc_registry;

enum pc_policy_flags {
	PC_POLICY_NO_LINT = 1u << 0,  /* skip the shadowing / registry warnings */
};

/*
 * Loads, parses and resolves @path. Returns a new IR (caller owns; free with
 * pc_ir_destroy()) or NULL when there were errors (reported on @diag).
 * *sys_error is set to true when the failure was a system error (the
 * top-level file could not be read: exit status 3).
 */
struct pc_ir *pc_policy_load(const char *path, const struct pc_registry *reg,
			     unsigned flags, struct pc_diag *diag,
			     bool *sys_error);

/*
 * Same, for one of many policies: files included under the same name are
 * parsed once per @cache (policy/ast.h: pc_include_cache; the IR then
 * points into the cache, which must outlive it, and every policy of one
 * cache is loaded with the same @diag).
 */
struct pc_include_cache;
struct pc_ir *pc_policy_load_cached(const char *path, const struct pc_registry *reg,
				    unsigned flags, struct pc_diag *diag,
				    bool *sys_error, struct pc_include_cache *cache);

/* Same, from a buffer (@name is used in locations). */
struct pc_ir *pc_policy_load_buffer(const char *name, const char *text,
				    size_t len, const struct pc_registry *reg,
				    unsigned flags, struct pc_diag *diag);

/* Writes the resolved IR readably (`check --dump`). */
void pc_ir_dump(const struct pc_ir *ir, FILE *out);

#endif
