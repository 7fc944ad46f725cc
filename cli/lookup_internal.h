/* SPDX-License-Identifier: MIT */
/*
 * What portcullis lookup shares with its output: the table of registry
 * entries and the JSON writers. Private to cli/: lookup.c (the queries)
 * and lookup_output.c (the aligned table and JSON output).
 */
#ifndef PC_LOOKUP_INTERNAL_H
#define PC_LOOKUP_INTERNAL_H

#include <jansson.h>

#include "registry/registry.h"

enum { COL_NAME, COL_PORT, COL_PROTO, COL_STATUS, COL_DESC, N_COLS };

struct table {
	char **cell;		/* rows * N_COLS */
	size_t rows, cap;
};

void table_add_entry(struct table *t, const struct pc_reg_entry *e);
void table_print(struct table *t);
json_t *jstr(const char *s);
json_t *json_entries(const struct pc_reg_entry *const *e, size_t n);

#endif
