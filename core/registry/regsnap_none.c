/* SPDX-License-Identifier: MIT */
/*
 * Cross builds have no registry snapshot (the generator would have to run
 * on the build machine with the target's struct layout): an empty one,
 * which pc_registry_set_snapshot() takes as none.
 */
#include "registry/registry.h"

const unsigned char pc_builtin_snapshot[1] = { 0 };
const size_t pc_builtin_snapshot_len = 0;
