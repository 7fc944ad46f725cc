/* SPDX-License-Identifier: MIT */
/*
 * Registry benchmark: load + index of the full IANA registry, parsed and
 * through the compiled-in snapshot, the catalog of common software and the
 * practice table (core/registry/catalog.c) loaded beside it, name lookups per second
 * (the registry's own, and through pc_service_lookup(): overlay, catalog,
 * registry, practice), port lookups per second. Prints the best and the median of several runs; see
 * bench/README.md.
 *
 *   bench_registry [REGISTRY.csv] [LOAD_RUNS]
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry/catalog.h"
#include "registry/registry.h"
#include "common/util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: what the load costs, without preemption. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double max_of(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

#define ROUNDS 10

static struct pc_registry *open_registry(const char *path)
{
	struct pc_diag *diag = pc_diag_create();
	struct pc_registry *reg = pc_registry_create();

	if (pc_registry_load(reg, path, false, diag) != 0) {
		pc_diag_print(diag, stderr, false);
		exit(1);
	}
	pc_registry_finish(reg);
	pc_diag_destroy(diag);
	return reg;
}

/* Every distinct name, found through the port index, plus variants. */
static const char **query_names(const struct pc_registry *reg, size_t *n)
{
	const struct pc_reg_entry *hits[256];
	const char **q = NULL;
	size_t cap = 0, len = 0;

	for (unsigned port = 0; port < 65536; port++) {
		size_t k = pc_registry_find_port(reg, (uint16_t)port,
						 __PC_TRANSPORT_MAX, hits, 256);

		for (size_t i = 0; i < k && i < 256; i++) {
			if (!hits[i]->name || hits[i]->port_lo != port)
				continue;
			q = xgrow(q, &cap, len + 3, sizeof(*q));
			q[len++] = hits[i]->name;
			/* the same name in capitals, and a miss */
			char *up = xstrdup(hits[i]->name), *miss;

			for (char *p = up; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			q[len++] = up;
			miss = xasprintf("%s-x", hits[i]->name);
			q[len++] = miss;
		}
	}
	*n = len;
	return q;
}

/*
 * @runs times pc_registry_create() + load + finish of @path (destroy not
 * timed); prints the best and the median. With @snapshot the base comes
 * from the compiled-in snapshot (and must: a mismatch is an error here).
 */
static int time_loads(const char *path, size_t runs, bool snapshot)
{
	double *t_load, *t_finish, *t_total, *t_cpu, best = 1e9, best_cpu = 1e9, t0, t1, c0;
	struct pc_registry *reg;

	pc_registry_set_snapshot(snapshot ? pc_builtin_snapshot : NULL,
				 snapshot ? pc_builtin_snapshot_len : 0);
	t_load = xcalloc(runs, sizeof(double));
	t_finish = xcalloc(runs, sizeof(double));
	t_total = xcalloc(runs, sizeof(double));
	t_cpu = xcalloc(runs, sizeof(double));
	for (size_t r = 0; r < runs; r++) {
		struct pc_diag *diag = pc_diag_create();

		c0 = cpu_now();
		t0 = now();
		reg = pc_registry_create();
		if (pc_registry_load(reg, path, false, diag) != 0) {
			pc_diag_print(diag, stderr, false);
			return 1;
		}
		t1 = now();
		pc_registry_finish(reg);
		t_total[r] = now() - t0;
		t_cpu[r] = cpu_now() - c0;
		if (pc_registry_from_snapshot(reg) != snapshot) {
			fprintf(stderr, "bench_registry: %s %s the snapshot\n", path,
				snapshot ? "does not match" : "unexpectedly came from");
			return 1;
		}
		if (t_cpu[r] < best_cpu)
			best_cpu = t_cpu[r];
		t_load[r] = t1 - t0;
		t_finish[r] = t_total[r] - t_load[r];
		if (t_total[r] < best)
			best = t_total[r];
		pc_registry_destroy(reg);
		pc_diag_destroy(diag);
	}
	printf("load + index (%s): best %.3f ms, median %.3f ms over %zu runs "
	       "(load median %.3f ms, index median %.3f ms; "
	       "CPU time best %.3f ms, median %.3f ms)\n",
	       snapshot ? "snapshot" : "parse",
	       best * 1e3, median(t_total, runs) * 1e3, runs,
	       median(t_load, runs) * 1e3, median(t_finish, runs) * 1e3,
	       best_cpu * 1e3, median(t_cpu, runs) * 1e3);
	pc_registry_set_snapshot(NULL, 0);
	free(t_load);
	free(t_finish);
	free(t_total);
	free(t_cpu);
	return 0;
}

/* @runs loads of the shipped catalog and practice table; prints best and median. */
static int time_catalog(size_t runs)
{
	double *t = xcalloc(runs, sizeof(double)), best = 1e9, t0;

	for (size_t r = 0; r < runs; r++) {
		struct pc_diag *diag = pc_diag_create();
		struct pc_catalog *cat;

		t0 = now();
		cat = pc_catalog_create();
		if (pc_catalog_load(cat, pc_catalog_default_path(), pc_practice_default_path(),
				    diag) != 0) {
			pc_diag_print(diag, stderr, false);
			return 1;
		}
		t[r] = now() - t0;
		if (t[r] < best)
			best = t[r];
		pc_catalog_destroy(cat);
		pc_diag_destroy(diag);
	}
	printf("catalog + practice load + index: best %.3f ms, median %.3f ms over %zu runs\n",
	       best * 1e3, median(t, runs) * 1e3, runs);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : pc_registry_default_path();
	size_t runs = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
	double t0;
	struct pc_registry *reg;
	const char **names;
	size_t n_names, found = 0, iters = 20000000, pfound = 0;
	const struct pc_reg_entry *const *out;
	const struct pc_reg_entry *pout[64];
	double rate[ROUNDS];

	if (runs < 1)
		runs = 1;
	printf("registry: %s\n", path);
	if (time_loads(path, runs, false) != 0)
		return 1;
	/* only the shipped file (byte for byte) has a snapshot */
	if (pc_builtin_snapshot_len == 0)
		printf("load + index (snapshot): none in this build\n");
	else if (time_loads(path, runs, true) != 0)
		printf("load + index (snapshot): not used for this file\n");

	if (time_catalog(runs) != 0)
		return 1;

	reg = open_registry(path);
	names = query_names(reg, &n_names);
	/* rounds of iters / ROUNDS lookups: the best and the median rate */
	for (size_t r = 0, j = 0; r < ROUNDS; r++) {
		t0 = now();
		for (size_t i = 0; i < iters / ROUNDS; i++, j = j + 1 == n_names ? 0 : j + 1)
			found += pc_registry_find_name(reg, names[j], &out);
		rate[r] = (double)(iters / ROUNDS) / (now() - t0) / 1e6;
	}
	printf("name lookups: best %.1f, median %.1f million/s (%zu lookups in %d rounds "
	       "over %zu names: a third exact, a third in capitals, a third misses; "
	       "%zu entries found)\n", max_of(rate, ROUNDS), median(rate, ROUNDS),
	       iters, ROUNDS, n_names, found);
	{
		struct pc_diag *diag = pc_diag_create();
		struct pc_catalog *cat = pc_catalog_create();
		const char **all;
		size_t n_all, svc_found = 0;
		struct pc_svc svc;

		if (pc_catalog_load(cat, pc_catalog_default_path(), pc_practice_default_path(),
				    diag) != 0) {
			pc_diag_print(diag, stderr, false);
			return 1;
		}
		pc_registry_set_catalog(reg, cat);
		/* the registry's names and every catalog name (aliases included) */
		n_all = n_names + pc_catalog_count(cat);
		all = xcalloc(n_all, sizeof(*all));
		memcpy(all, names, n_names * sizeof(*all));
		for (size_t i = 0; i < pc_catalog_count(cat); i++)
			all[n_names + i] = pc_catalog_record(cat, i)->name;
		for (size_t r = 0, j = 0; r < ROUNDS; r++) {
			t0 = now();
			for (size_t i = 0; i < iters / ROUNDS; i++, j = j + 1 == n_all ? 0 : j + 1)
				svc_found += pc_service_lookup(reg, cat, all[j], &svc);
			rate[r] = (double)(iters / ROUNDS) / (now() - t0) / 1e6;
		}
		printf("service lookups with the catalog: best %.1f, median %.1f million/s "
		       "(%zu lookups over %zu names, %zu known)\n", max_of(rate, ROUNDS),
		       median(rate, ROUNDS), iters, n_all, svc_found);
		free(all);
		pc_diag_destroy(diag);
	}
	for (size_t r = 0, i = 0; r < ROUNDS; r++) {
		t0 = now();
		for (size_t k = 0; k < iters / ROUNDS; k++, i++)
			pfound += pc_registry_find_port(reg, (uint16_t)(i * 7919u),
							(unsigned)(i & 3), pout, 64);
		rate[r] = (double)(iters / ROUNDS) / (now() - t0) / 1e6;
	}
	printf("port lookups: best %.1f, median %.1f million/s (%zu lookups in %d rounds, "
	       "%zu entries found)\n", max_of(rate, ROUNDS), median(rate, ROUNDS),
	       iters, ROUNDS, pfound);
	for (size_t i = 0; i < n_names; i++)
		if (i % 3)
			free((char *)names[i]);
	free(names);
	pc_registry_destroy(reg);
	return 0;
}
