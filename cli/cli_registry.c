/* SPDX-License-Identifier: MIT */
/* Opening the registry the command line names, and terminal colour. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry/catalog.h"
#include "cli/cli.h"
#include "registry/registry.h"
#include "common/util.h"

#define SITE_OVERLAY "/etc/portcullis/services"

/* Loads one file, keeping the worst status (3 over 1 over 0). */
static void load_one(struct pc_registry *reg, const char *path, bool overlay,
		     struct pc_diag *diag, int *worst)
{
	int st = pc_registry_load(reg, path, overlay, diag);

	if (st > *worst)
		*worst = st;
}

struct pc_registry *pc_cli_open_registry(const struct pc_registry_opts *o,
					 struct pc_diag *diag, int *status)
{
	struct pc_registry *reg = pc_registry_create();
	const char *base = o->registry, *env;
	int worst = 0;

	if (!base || !*base) {
		env = getenv("PORTCULLIS_REGISTRY");
		base = env && *env ? env : pc_registry_default_path();
	}
	load_one(reg, base, false, diag, &worst);
	if (worst == PC_EXIT_SYSTEM && base == pc_registry_default_path()) {
		struct pc_location loc = {
			.file = pc_diag_add_source(diag, base, "", 0),
		};

		pc_diag_note(diag, &loc, "the installed registry is missing: "
			     "name one with --registry FILE or PORTCULLIS_REGISTRY");
	}
	/*
	 * Overlays, later ones winning: the site file, then the environment,
	 * then the command line, so that what the operator types decides.
	 * Every file is read even after an error: report them all at once.
	 */
	if (!o->no_default_overlay && access(SITE_OVERLAY, F_OK) == 0)
		load_one(reg, SITE_OVERLAY, true, diag, &worst);
	env = getenv("PORTCULLIS_OVERLAY");
	if (env && *env) {
		char *list = xstrdup(env), *save = NULL;

		for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
			load_one(reg, p, true, diag, &worst);
		free(list);
	}
	for (size_t i = 0; i < o->n_overlays && i < PC_ARRAY_SIZE(o->overlays); i++)
		load_one(reg, o->overlays[i], true, diag, &worst);
	if (worst) {
		pc_diag_print(diag, stderr, pc_cli_color());
		pc_registry_destroy(reg);
		*status = worst;
		return NULL;
	}
	pc_registry_finish(reg);
	/* the catalog is read next to the registry, whichever registry that is */
	{
		struct pc_catalog *cat = pc_catalog_create();

		worst = pc_catalog_load(cat, pc_catalog_default_path(),
					pc_practice_default_path(), diag);
		pc_registry_set_catalog(reg, cat);
		if (worst) {
			pc_diag_print(diag, stderr, pc_cli_color());
			pc_registry_destroy(reg);
			*status = worst;
			return NULL;
		}
	}
	*status = PC_EXIT_OK;
	return reg;
}

bool pc_cli_add_overlay(struct pc_registry_opts *o, const char *file,
			const char *command)
{
	if (o->n_overlays >= PC_ARRAY_SIZE(o->overlays)) {
		fprintf(stderr, "portcullis %s: at most %zu --overlay files\n", command,
			PC_ARRAY_SIZE(o->overlays));
		return false;
	}
	o->overlays[o->n_overlays++] = file;
	return true;
}

bool pc_cli_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDERR_FILENO) && !(nc && *nc);
}

void pc_cli_phase(const char *command, const char *what)
{
	static struct timespec last;
	static int on = -1;
	struct timespec now;

	if (on < 0) {
		const char *e = getenv("PORTCULLIS_TIMING");

		on = e && *e && strcmp(e, "0") != 0;
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (what && last.tv_sec)
		fprintf(stderr, "portcullis %s: timing: %-34s %8.3f ms\n", command, what,
			(double)(now.tv_sec - last.tv_sec) * 1e3 +
			(double)(now.tv_nsec - last.tv_nsec) / 1e6);
	last = now;
}
