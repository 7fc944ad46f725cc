/* SPDX-License-Identifier: MIT */
/*
 * The nft backend: `nft -f` input replacing one `table inet NAME`.
 * The rules come from the shared lowering (nft_lower.c), which `apply`
 * also programs over netlink.
 */
#include <stdlib.h>

#include "backends/builtin.h"
#include "backends/nft/nft_lower.h"
#include "common/template.h"

static int nft_check(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     struct pc_diag *diag)
{
	return pc_nft_check(ir, diag);
}

static bool write_body(void *ctx, FILE *out)
{
	pc_nft_plan_format_body(ctx, out);
	/* empty, or its chains' closing "\t}\n" */
	return true;
}

static bool write_reload(void *ctx, FILE *out)
{
	pc_nft_plan_format_reload(ctx, out);
	/* ends with the table's closing brace, no newline */
	return false;
}

static int nft_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    FILE *out, struct pc_diag *diag)
{
	struct pc_nft_plan *plan;
	const char *tmpl;
	bool dynamic;
	int ret = -1;

	/* the groups' sets hold no elements: they are made as written */
	plan = pc_nft_plan_create_text(ir, diag);
	if (!plan)
		return -1;
	/* dynamic sets: a reload must keep their elements (nft_reload.c) */
	dynamic = ir->n_dynsets && !opts->template_text;
	tmpl = opts->template_text ? opts->template_text :
	       pc_template_builtin(dynamic ? "nft-dynamic" : "nft");
	if (!tmpl) {
		pc_diag_error(diag, NULL, "nft: no built-in template");
		goto out;
	}
	/* the body goes straight to @out: it is the bulk of the output */
	ret = pc_template_render_with(tmpl, ir, opts, "nft",
				      dynamic ? write_reload : write_body, plan,
				      out, diag) ? -1 : 0;
out:
	pc_nft_plan_destroy(plan);
	return ret;
}

const struct pc_backend pc_backend_nft = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "nft",
	.summary = "nftables: one `table inet NAME` for nft -f (also what apply installs)",
	.caps = PC_CAP_ALL | PC_CAP_VMAP | PC_CAP_VMAP_DADDR | PC_CAP_IFACE_LIST |
		PC_CAP_OIFACE | PC_CAP_NAT | PC_CAP_DYNSET | PC_CAP_LOG_GROUP |
		PC_CAP_NEGATION | PC_CAP_LIMIT_BURST | PC_CAP_SPORT |
		PC_CAP_LIMIT_PER_SOURCE | PC_CAP_VMAP_IFACE |
		PC_CAP_VMAP_ICMP | PC_CAP_VMAP_ACTION,
	.families = PC_FAM_ALL,
	.check = nft_check,
	.emit = nft_emit,
};
