/* SPDX-License-Identifier: MIT */
/**
 * DOC: output templates
 *
 * Every backend's output is a skeleton (header comment, wrapper, trailer)
 * around the generated rules. The skeletons live in templates/NAME.tmpl,
 * are embedded into the program at build time and installed to
 * $datadir/portcullis/templates/; `generate --template FILE` replaces the
 * built-in one with a site's own.
 *
 * A template is plain text with placeholders {{name}}:
 *   {{version}}        program version
 *   {{policy}}         the policy file as given on the command line
 *   {{registry}}       the registry file used
 *   {{registry_date}}  its newest modification date (may be empty)
 *   {{table}}          the policy's table / chain prefix / anchor name
 *   {{backend}}        the backend's name
 *   {{body}}           the backend's generated text
 * A template without {{body}} is an error (the output would have no rules).
 * Anything else of the form {{[a-z_]*}} is an error; other text, including
 * a lone "{{", is copied as is. Values other than {{body}} have control
 * characters replaced by '?' so that a file name cannot leave the comment
 * it is quoted in. When {{body}} ends with a newline and the template has a
 * newline right after the placeholder, that newline is not doubled.
 */
#ifndef PORTCULLIS_TEMPLATE_H
#define PORTCULLIS_TEMPLATE_H

#include <stdbool.h>
#include <stdio.h>

#include <portcullis/backend.h>
#include <portcullis/diag.h>
#include <portcullis/ir.h>

/**
 * pc_template_render() - fill a template
 * @tmpl:    NUL-terminated template text
 * @ir:      the policy (for {{table}})
 * @opts:    version, policy path, registry name and date
 * @backend: the backend's name, for {{backend}}
 * @body:    the backend's generated text, NUL-terminated (may be "")
 * @out:     where the result goes
 * @diag:    an unknown {{name}} is reported here
 *
 * The location of an error is "template:LINE:COL" (the built-in template
 * of @backend when @opts->template_text is NULL); pc_template_check()
 * reports with the real file name and should be called on a --template
 * file first.
 *
 * Return: 0, or -1 after reporting an error (@out may hold partial output:
 * callers render into memory).
 */
int pc_template_render(const char *tmpl, const struct pc_ir *ir,
		       const struct pc_emit_options *opts, const char *backend,
		       const char *body, FILE *out, struct pc_diag *diag);

/**
 * typedef pc_template_body_fn - writes {{body}} straight to the output
 * @ctx: what pc_template_render_with() was given
 * @out: the output
 *
 * Return: true when what it wrote is empty or ends with a newline (the
 * template's newline after {{body}} is then not doubled).
 */
typedef bool (*pc_template_body_fn)(void *ctx, FILE *out);

/**
 * pc_template_render_with() - pc_template_render() with a body written by @body
 *
 * The body goes straight to @out instead of being held whole in memory
 * first (the nft output of a 100,000-rule policy is over 100 MB).
 */
int pc_template_render_with(const char *tmpl, const struct pc_ir *ir,
			    const struct pc_emit_options *opts, const char *backend,
			    pc_template_body_fn body, void *ctx, FILE *out,
			    struct pc_diag *diag);

/* One piece of a body that a backend holds in several buffers. */
struct pc_template_part {
	const char *text;
	size_t len;
};

/**
 * pc_template_render_parts() - pc_template_render() with the body the
 * concatenation of @n pieces, written one after the other (not copied
 * into one buffer first)
 */
int pc_template_render_parts(const char *tmpl, const struct pc_ir *ir,
			     const struct pc_emit_options *opts, const char *backend,
			     const struct pc_template_part *part, size_t n, FILE *out,
			     struct pc_diag *diag);

/**
 * pc_template_check() - report every unknown placeholder of a template
 * @tmpl: NUL-terminated template text
 * @file: its file name, used in the locations (the caller registers the
 *        text on @diag with pc_diag_add_source() to get quoted lines);
 *        the pointer must live as long as @diag
 * @diag: errors go here
 *
 * Return: 0 when every placeholder is known, -1 otherwise.
 */
int pc_template_check(const char *tmpl, const char *file, struct pc_diag *diag);

/**
 * pc_template_builtin() - the built-in template of a backend
 * @name: backend name ("nft", "iptables", "ip6tables", "pf", ...)
 *
 * Return: templates/NAME.tmpl as embedded at build time (static storage),
 * or NULL when there is none.
 */
const char *pc_template_builtin(const char *name);

#endif
