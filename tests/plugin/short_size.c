/* SPDX-License-Identifier: MIT */
/*
 * A plugin of the right ABI number whose struct pc_backend is shorter than
 * that ABI's (a size the program cannot trust): the loader must reject it
 * before it reads any field past @size.
 */
#include <portcullis/backend.h>

const struct pc_backend portcullis_backend = {
	.abi = PC_BACKEND_ABI,
	.size = 8,
	.name = "short",
};
