/* SPDX-License-Identifier: MIT */
/* A second plugin named like examples/plugin's: the loader must reject it. */
#include <portcullis/backend.h>

static int dup_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    FILE *out, struct pc_diag *diag)
{
	(void)ir;
	(void)opts;
	(void)diag;
	return fputs("must never run\n", out) < 0;
}

const struct pc_backend portcullis_backend = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "review",
	.summary = "duplicate name",
	.caps = PC_CAP_ALL,
	.families = PC_FAM_ALL,
	.emit = dup_emit,
};
