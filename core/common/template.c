/* SPDX-License-Identifier: MIT */
#include "common/template.h"

#include <stdbool.h>
#include <string.h>

/* Generated at build time from templates/NAME.tmpl by templates/embed.py. */
struct pc_template_embedded {
	const char *name;
	const char *text;
};
extern const struct pc_template_embedded pc_templates_embedded[];
extern const unsigned pc_templates_embedded_count;

enum placeholder {
	PH_VERSION,
	PH_POLICY,
	PH_REGISTRY,
	PH_REGISTRY_DATE,
	PH_TABLE,
	PH_BACKEND,
	PH_BODY,
	__PH_MAX
};

static const char *const placeholder_names[__PH_MAX] = {
	[PH_VERSION] = "version",
	[PH_POLICY] = "policy",
	[PH_REGISTRY] = "registry",
	[PH_REGISTRY_DATE] = "registry_date",
	[PH_TABLE] = "table",
	[PH_BACKEND] = "backend",
	[PH_BODY] = "body",
};

const char *pc_template_builtin(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; i < pc_templates_embedded_count; i++)
		if (strcmp(pc_templates_embedded[i].name, name) == 0)
			return pc_templates_embedded[i].text;
	return NULL;
}

/*
 * At @p (pointing at "{{"): when a placeholder {{[a-z_]*}} starts here,
 * stores its name span and returns its total length, else 0.
 */
static size_t placeholder_at(const char *p, const char **name, size_t *len)
{
	const char *q = p + 2;

	while ((*q >= 'a' && *q <= 'z') || *q == '_')
		q++;
	if (q[0] != '}' || q[1] != '}')
		return 0;
	*name = p + 2;
	*len = (size_t)(q - (p + 2));
	return (size_t)(q + 2 - p);
}

static int placeholder_lookup(const char *name, size_t len)
{
	for (int i = 0; i < __PH_MAX; i++)
		if (strlen(placeholder_names[i]) == len &&
		    memcmp(placeholder_names[i], name, len) == 0)
			return i;
	return -1;
}

/* What fills {{body}}: written by @fn, which says whether it ended a line. */
struct body_writer {
	pc_template_body_fn fn;
	void *ctx;
};

/*
 * Walks @tmpl; for each unknown placeholder reports an error at
 * @file:line:col. With @out, also writes the rendering.
 */
static int walk(const char *tmpl, const char *file, const char *const *values,
		const struct body_writer *bw, FILE *out, struct pc_diag *diag)
{
	unsigned line = 1;
	const char *line_start = tmpl;
	bool body = false;
	int ret = 0;

	for (const char *p = tmpl; *p;) {
		const char *name;
		size_t nlen, plen = 0;
		int ph;

		if (p[0] == '{' && p[1] == '{')
			plen = placeholder_at(p, &name, &nlen);
		if (!plen) {
			if (*p == '\n') {
				line++;
				line_start = p + 1;
			}
			if (out)
				fputc(*p, out);
			p++;
			continue;
		}
		ph = placeholder_lookup(name, nlen);
		if (ph < 0) {
			struct pc_location loc = {
				.file = file,
				.line = line,
				.col = (unsigned)(p - line_start) + 1,
				.len = (unsigned)plen,
			};
			pc_diag_error(diag, &loc,
				      "unknown template placeholder '{{%.*s}}' (known: {{version}}, {{policy}}, {{registry}}, {{registry_date}}, {{table}}, {{backend}}, {{body}})",
				      (int)nlen, name);
			ret = -1;
			p += plen;
			continue;
		}
		p += plen;
		if (ph == PH_BODY)
			body = true;
		if (!out)
			continue;
		if (ph == PH_BODY) {
			bool ends_line = bw->fn(bw->ctx, out);

			if (*p == '\n' && ends_line) {
				/* the placeholder's own line end is the body's */
				line++;
				p++;
				line_start = p;
			}
			continue;
		}
		for (const char *v = values[ph]; *v; v++) {
			unsigned char c = (unsigned char)*v;

			fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
		}
	}
	if (!body) {
		struct pc_location loc = { .file = file, .line = 1, .col = 1 };

		/* an output without its rules is never what was meant */
		pc_diag_error(diag, &loc, "template has no {{body}}: the rules would be left out");
		ret = -1;
	}
	return ret;
}

int pc_template_check(const char *tmpl, const char *file, struct pc_diag *diag)
{
	return walk(tmpl, file, NULL, NULL, NULL, diag);
}

static const char *nonnull(const char *s)
{
	return s ? s : "";
}

int pc_template_render_with(const char *tmpl, const struct pc_ir *ir,
			    const struct pc_emit_options *opts, const char *backend,
			    pc_template_body_fn body, void *ctx, FILE *out,
			    struct pc_diag *diag)
{
	const char *values[__PH_MAX] = {
		[PH_VERSION] = nonnull(opts->version),
		[PH_POLICY] = nonnull(opts->policy_path ? opts->policy_path : ir->policy_file),
		[PH_REGISTRY] = nonnull(opts->registry_name ? opts->registry_name : ir->registry_name),
		[PH_REGISTRY_DATE] = nonnull(opts->registry_date ? opts->registry_date : ir->registry_date),
		[PH_TABLE] = nonnull(ir->table),
		[PH_BACKEND] = nonnull(backend),
		[PH_BODY] = "",
	};
	const char *file = opts->template_text ? "template" : "built-in template";
	struct body_writer bw = { body, ctx };

	if (walk(tmpl, file, values, NULL, NULL, diag) < 0)
		return -1;
	return walk(tmpl, file, values, &bw, out, diag);
}

struct parts {
	const struct pc_template_part *part;
	size_t n;
};

static bool write_parts(void *ctx, FILE *out)
{
	const struct parts *ps = ctx;
	bool ends_line = true;

	for (size_t i = 0; i < ps->n; i++) {
		if (!ps->part[i].len)
			continue;
		fwrite(ps->part[i].text, 1, ps->part[i].len, out);
		ends_line = ps->part[i].text[ps->part[i].len - 1] == '\n';
	}
	return ends_line;
}

int pc_template_render_parts(const char *tmpl, const struct pc_ir *ir,
			     const struct pc_emit_options *opts, const char *backend,
			     const struct pc_template_part *part, size_t n, FILE *out,
			     struct pc_diag *diag)
{
	struct parts ps = { part, n };

	return pc_template_render_with(tmpl, ir, opts, backend, write_parts, &ps, out, diag);
}

int pc_template_render(const char *tmpl, const struct pc_ir *ir,
		       const struct pc_emit_options *opts, const char *backend,
		       const char *body, FILE *out, struct pc_diag *diag)
{
	struct pc_template_part part = { nonnull(body), strlen(nonnull(body)) };

	return pc_template_render_parts(tmpl, ir, opts, backend, &part, 1, out, diag);
}
