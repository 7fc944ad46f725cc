/* SPDX-License-Identifier: MIT */
/*
 * A shared object that leaves a mark when it is loaded: its constructor
 * creates the file named by PC_TEST_PLUGIN_MARKER. The tests use it to see
 * whether a command opened a plugin at all (a refused plugin must never
 * reach dlopen, where its constructor would already run).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static void __attribute__((constructor)) mark(void)
{
	const char *path = getenv("PC_TEST_PLUGIN_MARKER");
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}
