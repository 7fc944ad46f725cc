/* SPDX-License-Identifier: MIT */
/*
 * Making and owning an IR: the memory of its rules, sets and names is one
 * arena that the public struct pc_ir does not show (plugins see only what
 * they read). For the resolver and the optimiser.
 */
#ifndef PORTCULLIS_IR_OWNED_H
#define PORTCULLIS_IR_OWNED_H

#include <portcullis/ir.h>

#include "common/util.h"

/* A new, empty IR owning @arena (freed by pc_ir_destroy()). */
struct pc_ir *pc_ir_create(struct pc_arena *arena);

/* The arena of an IR made by pc_ir_create(). */
struct pc_arena *pc_ir_arena(const struct pc_ir *ir);

/*
 * The spooled arena (pc_arena_create_spool()) of @ir, an optimised view
 * made by pc_ir_optimize_view_spool(), or NULL for any other IR, whoever
 * made it (a backend may be given an IR that pc_ir_create() did not
 * make). Until pc_ir_destroy().
 */
struct pc_arena *pc_ir_spool(const struct pc_ir *ir);
/* Marks @ir (made by pc_ir_create()) as one whose arena is spooled. */
void pc_ir_set_spooled(const struct pc_ir *ir);

#endif
