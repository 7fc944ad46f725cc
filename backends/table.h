/* SPDX-License-Identifier: MIT */
/**
 * DOC: the set of backends
 *
 * The built-in backends (an explicit static table, in the order of
 * backends/builtin.h) and the plugins found in PORTCULLIS_PLUGIN_PATH
 * (colon-separated directories, in order) and then PC_PLUGINDIR. In each
 * directory the files ending in ".so" are loaded in name order. A plugin
 * is rejected, with a message on the diag queue, when it cannot be loaded,
 * does not export PC_BACKEND_SYMBOL, was built for another PC_BACKEND_ABI,
 * has an invalid name or no emit function, or takes a name already taken
 * (built-ins always win; the first plugin of a name wins over later ones).
 *
 * Before anything is loaded from it, a directory, and then each plugin
 * file, must be owned by root or the invoking user and writable by neither
 * its group nor others; else it is refused (with a message) and nothing in
 * it is opened. Relative entries of PORTCULLIS_PLUGIN_PATH are ignored with
 * a warning.
 */
#ifndef PORTCULLIS_BACKEND_TABLE_H
#define PORTCULLIS_BACKEND_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include <portcullis/backend.h>
#include <portcullis/diag.h>
#include <portcullis/ir.h>

/* The built-in backends: NULL-terminated, static. */
extern const struct pc_backend *const pc_backends_builtin[];

/* True when @name is one of the built-in backends (no plugin is needed for it). */
bool pc_backend_is_builtin(const char *name);

struct pc_backend_set;

/**
 * pc_backend_set_create() - collect the built-in backends and the plugins
 * @diag: rejected plugins are reported here with severity @sev and no
 *        location ("portcullis: warning: plugin PATH: ...")
 * @sev:  PC_SEV_WARNING when a bad plugin should not stop the command,
 *        PC_SEV_ERROR when it should
 * @plugins: false to load the built-ins only
 *
 * Return: a new set; free with pc_backend_set_destroy(), which also
 * unloads the plugins (their backends must not be used after that).
 */
struct pc_backend_set *pc_backend_set_create(struct pc_diag *diag,
					     enum pc_severity sev, bool plugins);
/* Unloads the plugins and frees @set. NULL is a no-op. */
void pc_backend_set_destroy(struct pc_backend_set *set);

/* Number of backends in @set (built-ins first, then plugins). */
size_t pc_backend_set_count(const struct pc_backend_set *set);

/**
 * pc_backend_set_get() - one backend of the set
 * @set:    the set
 * @i:      index below pc_backend_set_count()
 * @origin: if not NULL, receives "built-in" or the plugin's path (owned
 *          by @set)
 */
const struct pc_backend *pc_backend_set_get(const struct pc_backend_set *set,
					    size_t i, const char **origin);

/* The options @backend declares (ended by a NULL name), or NULL for none. */
const struct pc_backend_option *pc_backend_options(const struct pc_backend *backend);

/* The option called @name that @backend declares, or NULL. */
const struct pc_backend_option *pc_backend_option_find(const struct pc_backend *backend,
							const char *name);

/* True when @value is one of the values @opt declares (any, when it lists none). */
bool pc_backend_option_value_ok(const struct pc_backend_option *opt, const char *value);

/* The backend called @name, or NULL. */
const struct pc_backend *pc_backend_set_find(const struct pc_backend_set *set,
					     const char *name);

/**
 * pc_backend_check() - can @backend express @ir?
 * @backend: the backend
 * @ir:      the policy
 * @opts:    handed on to @backend->check
 * @diag:    every rule feature outside @backend->caps is reported as
 *           "FILE:LINE:COL: error: backend 'NAME' cannot express FEATURE"
 *           at the rule's location; then @backend->check runs (when the
 *           capabilities were fine)
 *
 * Rules whose families are all outside @backend->families are skipped (out
 * of the backend's scope, not an error). A direction the backend lacks is
 * an error for the rules the policy wrote there only: the backend leaves
 * out that chain's built-in rules (connection tracking, essential ICMP).
 *
 * Return: 0 when the backend can emit @ir, -1 otherwise.
 */
int pc_backend_check(const struct pc_backend *backend, const struct pc_ir *ir,
		     const struct pc_emit_options *opts, struct pc_diag *diag);

/**
 * pc_backend_rule_caps() - the capabilities one rule needs
 * @rule: the rule
 * @dir:  its chain's direction
 *
 * Return: a PC_CAP_* mask (families, direction and every match feature).
 */
uint32_t pc_backend_rule_caps(const struct pc_rule *rule, enum pc_direction dir);

#endif
