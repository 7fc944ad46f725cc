/* SPDX-License-Identifier: MIT */
/*
 * Parse + resolve speed: generates policies of 1,000, 10,000 and 100,000
 * rules in memory and times pc_policy_load_buffer() (best of several runs),
 * with and without the lint pass. Prints one line per size and the growth
 * ratios; exits 1 when growth is not linear (10x rules within 12x time) or
 * 100,000 rules take a second or more.
 *
 *   ./build/bench/bench_policy [REGISTRY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static const char *const names[] = {
	"ssh", "http", "https", "smtp", "submission", "imaps", "domain", "ntp",
	"ldap", "ldaps", "kerberos", "mysql", "postgresql", "redis", "rsync",
	"snmp", "syslog", "bgp", "git", "xmpp-client", "sip", "rtsp", "nfs",
	"ipp", "irc", "openvpn", "radius", "ms-sql-s", "http-alt", "amqp",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *generate(size_t n, size_t *len)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_puts(&b, "table bench\ndefault in deny\n"
		    "hosts admins = { 192.0.2.0/24, 2001:db8:100::/48 }\n"
		    "services web = { http, https }\n");
	for (size_t i = 0; i < n; i++) {
		unsigned a = (unsigned)(i % 250) + 1, c = (unsigned)(i / 250 % 250);

		switch (i % 5) {
		case 0:
			pc_buf_printf(&b, "allow in service %s/tcp from 10.%u.%u.0/24\n",
				      names[i % PC_ARRAY_SIZE(names)], c, a);
			break;
		case 1:
			pc_buf_printf(&b, "deny in port %zu/udp from 198.51.%u.%u\n",
				      1024 + i % 60000, c % 256, a);
			break;
		case 2:
			pc_buf_printf(&b, "allow in port { %zu, %zu-%zu }/tcp to 2001:db8:%x::%x\n",
				      2000 + i % 50000, 3000 + i % 50000, 3010 + i % 50000, c, a);
			break;
		case 3:
			pc_buf_printf(&b, "allow in service $web from 172.%u.%u.0/24 comment \"rule %zu\"\n",
				      16 + c % 16, a, i);
			break;
		default:
			pc_buf_printf(&b, "reject in service ssh/tcp from $admins to 203.0.%u.%u log \"r%zu \"\n",
				      c % 256, a, i % 1000);
			break;
		}
	}
	*len = b.len;
	return b.data;
}

/*
 * Each run happens in a fresh child process, as a real `portcullis` run
 * does: no size gets a heap that earlier runs have already faulted in.
 */
static double time_load(const char *text, size_t len, const struct pc_registry *reg,
			unsigned flags, int reps)
{
	double best = 1e9;

	for (int r = 0; r < reps; r++) {
		int fd[2];
		double t = -1;
		pid_t pid;

		if (pipe(fd) < 0)
			exit(2);
		pid = fork();
		if (pid == 0) {
			struct pc_diag *d = pc_diag_create();
			double t0 = now();
			struct pc_ir *ir = pc_policy_load_buffer("bench.policy", text, len, reg,
								 flags, d);

			t = now() - t0;
			if (!ir) {
				pc_diag_print(d, stderr, false);
				_exit(2);
			}
			if (write(fd[1], &t, sizeof(t)) != sizeof(t))
				_exit(2);
			_exit(0);
		}
		close(fd[1]);
		if (read(fd[0], &t, sizeof(t)) != sizeof(t))
			exit(2);
		close(fd[0]);
		waitpid(pid, NULL, 0);
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : PC_SOURCE_DATADIR "/service-names-port-numbers.csv";
	static const size_t sizes[] = { 1000, 10000, 100000 };
	double t[3][2];
	struct pc_diag *d = pc_diag_create();
	struct pc_registry *reg = pc_registry_create();
	int status = 0;

	if (pc_registry_load(reg, path, false, d)) {
		pc_diag_print(d, stderr, false);
		return 2;
	}
	pc_registry_finish(reg);
	printf("%-8s %14s %14s\n", "rules", "no lint (ms)", "with lint (ms)");
	for (int i = 0; i < 3; i++) {
		size_t len;
		char *text = generate(sizes[i], &len);
		int reps = sizes[i] >= 100000 ? 3 : 10;

		t[i][0] = time_load(text, len, reg, PC_POLICY_NO_LINT, reps);
		t[i][1] = time_load(text, len, reg, 0, reps);
		printf("%-8zu %14.2f %14.2f\n", sizes[i], t[i][0] * 1e3, t[i][1] * 1e3);
		free(text);
	}
	for (int i = 1; i < 3; i++)
		for (int l = 0; l < 2; l++) {
			double ratio = t[i][l] / t[i - 1][l];

			printf("growth %zu -> %zu rules (%s): %.1fx time for 10x rules\n",
			       sizes[i - 1], sizes[i], l ? "with lint" : "no lint", ratio);
			if (ratio > 12)
				status = 1;
		}
	if (t[2][0] >= 1.0 || t[2][1] >= 1.0)
		status = 1;
	printf("%s\n", status ? "FAIL: not linear, or 100,000 rules took 1 s or more"
			      : "ok: linear, 100,000 rules under 1 s");
	pc_registry_destroy(reg);
	pc_diag_destroy(d);
	return status;
}
