/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: parser + resolver (+ lint) over arbitrary bytes.
 * Built as a libFuzzer target with -Dfuzz=true (clang), and as a plain
 * program that replays files (the corpus and found crashers) in the test
 * suite: `fuzz_policy_replay FILE...`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pc_registry *registry(void)
{
	static struct pc_registry *reg;

	if (!reg) {
		struct pc_diag *d = pc_diag_create();

		reg = pc_registry_create();
		if (pc_registry_load(reg, PC_SOURCE_DATADIR "/service-names-port-numbers.csv",
				     false, d) != 0) {
			pc_diag_print(d, stderr, false);
			abort();
		}
		pc_registry_finish(reg);
		pc_diag_destroy(d);
	}
	return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir;
	FILE *null = fopen("/dev/null", "w");

	ir = pc_policy_load_buffer("fuzz.policy", (const char *)data, size,
				   registry(), 0, d);
	if (ir && null)
		pc_ir_dump(ir, null);
	if (null) {
		pc_diag_print(d, null, false);
		fclose(null);
	}
	pc_ir_destroy(ir);
	pc_diag_destroy(d);
	return 0;
}

#ifdef PC_FUZZ_REPLAY
#include <dirent.h>
#include <string.h>

static int replay(const char *path, unsigned *count)
{
	DIR *dir = opendir(path);
	size_t len;
	char *buf;

	if (dir) {
		struct dirent **names;
		int n = scandir(path, &names, NULL, alphasort);

		closedir(dir);
		for (int i = 0; i < n; i++) {
			if (names[i]->d_name[0] != '.') {
				char *sub = xasprintf("%s/%s", path, names[i]->d_name);

				if (replay(sub, count))
					return 1;
				free(sub);
			}
			free(names[i]);
		}
		free(names);
		return 0;
	}
	buf = pc_read_file(path, &len);
	if (!buf) {
		perror(path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++)
		if (replay(argv[i], &count))
			return 1;
	printf("replayed %u inputs without a crash\n", count);
	return 0;
}
#endif
