/* SPDX-License-Identifier: MIT */
/*
 * A plugin built for another backend ABI (1, before struct pc_backend had a
 * size and the IR carried its sizes): the loader must reject it by name.
 */
#include <portcullis/backend.h>

static int bad_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    FILE *out, struct pc_diag *diag)
{
	(void)ir;
	(void)opts;
	(void)diag;
	return fputs("must never run\n", out) < 0;
}

const struct pc_backend portcullis_backend = {
	.abi = 1,
	.size = sizeof(struct pc_backend),
	.name = "badabi",
	.summary = "wrong ABI",
	.caps = PC_CAP_ALL,
	.families = PC_FAM_ALL,
	.emit = bad_emit,
};
