/* SPDX-License-Identifier: MIT */
/*
 * portcullis --version: the program's version, the registry's date and the
 * catalog's revision, the three things that decide what a policy means.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "common/util.h"
#include "registry/catalog.h"
#include "registry/registry.h"

/*
 * The catalog carries no revision number that anyone would have to
 * remember to raise: its revision is the 64-bit FNV-1a hash of the file,
 * so two installs agree exactly when their catalogs do.
 */
static uint64_t fnv1a64(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

int pc_cli_version(void)
{
	struct pc_registry_opts ro = { .no_default_overlay = true };
	struct pc_diag *diag = pc_diag_create();
	struct pc_registry *reg;
	const char *cat_path = pc_catalog_default_path();
	char *text;
	size_t len = 0;
	int status;

	printf("portcullis %s\n", pc_program_version);
	/* the shipped data only: overlays are the site's, not the version's */
	reg = pc_cli_open_registry(&ro, diag, &status);
	if (reg) {
		printf("registry: %s (%s)\n", pc_registry_source(reg), pc_registry_date(reg));
		printf("catalog: %s (%zu names)", cat_path,
		       pc_catalog_count(pc_registry_catalog(reg)));
	} else {
		printf("registry: %s (cannot be loaded, see above)\n", pc_registry_default_path());
		printf("catalog: %s", cat_path);
	}
	text = pc_read_file(cat_path, &len);
	if (text)
		printf(", revision %016" PRIx64 "\n", fnv1a64(text, len));
	else
		printf(", missing\n");
	free(text);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return PC_EXIT_OK;
}
