/* SPDX-License-Identifier: MIT */
/*
 * `check --format json|sarif`: the diagnostics for scripts and for code
 * review tools. SARIF 2.1.0 (OASIS): one run of the tool "portcullis",
 * one result per diagnostic with its level, message and, when it has one,
 * its file, line and column (the column range covers the token).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/check_format.h"
#include "cli/cli.h"
#include "common/diag_walk.h"
#include "common/util.h"

static const char *const sev_names[] = { "note", "warning", "error" };

struct collect {
	json_t *items;
	bool sarif;
};

/* A relative URI reference for a file name: RFC 3986 unreserved characters and '/' as they are. */
static json_t *file_uri(const char *file)
{
	struct pc_buf b;
	json_t *j;

	pc_buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)file; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			pc_buf_putc(&b, (char)*p);
		else
			pc_buf_printf(&b, "%%%02X", *p);
	}
	j = json_stringn(b.data ? b.data : "", b.len);
	pc_buf_finish(&b);
	return j;
}

static void add_one(void *ctx, enum pc_severity sev, const struct pc_location *loc,
		    const char *text)
{
	struct collect *c = ctx;
	json_t *o;

	if (!c->sarif) {
		o = json_pack("{s:s, s:s}", "severity", sev_names[sev], "message", text);
		if (loc) {
			json_object_set_new(o, "file", json_string(loc->file));
			if (loc->line)
				json_object_set_new(o, "line", json_integer(loc->line));
			if (loc->line && loc->col) {
				json_object_set_new(o, "column", json_integer(loc->col));
				json_object_set_new(o, "length", json_integer(loc->len));
			}
		}
		json_array_append_new(c->items, o);
		return;
	}
	o = json_pack("{s:s, s:s, s:{s:s}}", "ruleId", sev == PC_SEV_ERROR ? "policy-error" :
		      sev == PC_SEV_WARNING ? "policy-warning" : "policy-note",
		      "level", sev_names[sev], "message", "text", text);
	if (loc) {
		json_t *phys = json_pack("{s:{s:o}}", "artifactLocation", "uri", file_uri(loc->file));

		if (loc->line) {
			json_t *region = json_pack("{s:i}", "startLine", (int)loc->line);

			if (loc->col) {
				json_object_set_new(region, "startColumn", json_integer(loc->col));
				if (loc->len)
					json_object_set_new(region, "endColumn",
							    json_integer(loc->col + loc->len));
			}
			json_object_set_new(phys, "region", region);
		}
		json_object_set_new(o, "locations",
				    json_pack("[{s:o}]", "physicalLocation", phys));
	}
	json_array_append_new(c->items, o);
}

static json_t *sarif_rule(const char *id, const char *text, const char *level)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}}", "id", id, "shortDescription", "text", text,
			 "defaultConfiguration", "level", level);
}

int pc_check_print_format(struct pc_diag *diag, enum pc_check_format fmt, FILE *out)
{
	struct collect c = { json_array(), fmt == PC_CHECK_SARIF };
	size_t dropped = pc_diag_take(diag, add_one, &c);
	size_t n_err = 0, n_warn = 0;
	json_t *top;
	size_t i;
	json_t *it;

	json_array_foreach(c.items, i, it) {
		const char *lv = json_string_value(json_object_get(it, c.sarif ? "level" : "severity"));

		n_err += strcmp(lv, "error") == 0;
		n_warn += strcmp(lv, "warning") == 0;
	}
	if (!c.sarif) {
		top = json_pack("{s:I, s:I, s:I, s:o}", "errors", (json_int_t)n_err,
				"warnings", (json_int_t)n_warn, "not_shown", (json_int_t)dropped,
				"diagnostics", c.items);
	} else {
		json_t *rules = json_pack("[o, o, o]",
			sarif_rule("policy-error", "An error in the policy: nothing is generated or applied", "error"),
			sarif_rule("policy-warning", "A warning about the policy (portcullis.policy(5), DIAGNOSTICS)", "warning"),
			sarif_rule("policy-note", "A note that explains an error or warning", "note"));

		top = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}",
				"$schema", "https://json.schemastore.org/sarif-2.1.0.json",
				"version", "2.1.0",
				"runs",
				"tool", "driver", "name", "portcullis",
				"version", pc_program_version,
				"rules", rules,
				"results", c.items);
	}
	if (!top)
		PC_BUG("json_pack");
	json_dumpf(top, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(top);
	if (fflush(out) != 0 || ferror(out)) {
		perror("portcullis: check: standard output");
		return PC_EXIT_SYSTEM;
	}
	return PC_EXIT_OK;
}
