/* SPDX-License-Identifier: MIT */
/* `check --format`: diagnostics as JSON or SARIF 2.1.0 (cli/check_format.c). */
#ifndef PORTCULLIS_CHECK_FORMAT_H
#define PORTCULLIS_CHECK_FORMAT_H

#include <stdio.h>

#include <portcullis/diag.h>

enum pc_check_format { PC_CHECK_TEXT, PC_CHECK_JSON, PC_CHECK_SARIF };

/* Writes and clears @diag's messages in @fmt (not TEXT) on @out; returns an exit status. */
int pc_check_print_format(struct pc_diag *diag, enum pc_check_format fmt, FILE *out);

#endif
