/* SPDX-License-Identifier: MIT */
/**
 * DOC: proving `expect` statements
 *
 * pc_ir_prove_expects() proves each &struct pc_expect of an IR over the
 * whole packet space it names, exactly, with the region arithmetic of
 * regions.h: the chain with the expectation put first (as a rule with its
 * verdict, for new packets, after the built-in loopback rule unless it
 * names an interface) is compared with the chain as it is; any region
 * where they differ is made of packets that break the expectation. One
 * concrete packet of the first such region is reported, with the line
 * that decides it. `expect deny` holds for packets refused by deny or
 * reject; allow and reject are exact.
 */
#ifndef PORTCULLIS_EXPECT_H
#define PORTCULLIS_EXPECT_H

#include <stdbool.h>

#include <portcullis/diag.h>
#include <portcullis/ir.h>

/* Returns true when every expectation holds; else errors on @diag. */
bool pc_ir_prove_expects(const struct pc_ir *ir, struct pc_diag *diag);

#endif
