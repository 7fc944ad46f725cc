/* SPDX-License-Identifier: MIT */
/*
 * The lockout guard's readers: SSH_CONNECTION, /proc/PID/stat,
 * /proc/net/tcp(6) lines, and the walk to the session's sshd over fake
 * /proc trees built in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/lockout.h"
#include "common/util.h"

static void addr(unsigned family, const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family == PC_FAM_IPV4 ? AF_INET : AF_INET6, text, out), 1);
}

static void test_ssh_connection_valid(void **state)
{
	struct pc_ssh_conn c;
	uint8_t a[16];

	(void)state;
	assert_true(pc_ssh_connection_parse("192.0.2.5 50000 198.51.100.1 22", &c));
	assert_int_equal(c.family, PC_FAM_IPV4);
	addr(PC_FAM_IPV4, "192.0.2.5", a);
	assert_memory_equal(c.client, a, 16);
	addr(PC_FAM_IPV4, "198.51.100.1", a);
	assert_memory_equal(c.server, a, 16);
	assert_int_equal(c.cport, 50000);
	assert_int_equal(c.sport, 22);

	assert_true(pc_ssh_connection_parse("2001:db8::5 1 2001:db8::1 65535", &c));
	assert_int_equal(c.family, PC_FAM_IPV6);
	addr(PC_FAM_IPV6, "2001:db8::5", a);
	assert_memory_equal(c.client, a, 16);
	assert_int_equal(c.cport, 1);
	assert_int_equal(c.sport, 65535);

	assert_true(pc_ssh_connection_parse("fe80::5%eth0 40000 fe80::1%eth0 22", &c));
	assert_int_equal(c.family, PC_FAM_IPV6);

	/* IPv4-mapped: the IPv4 client it stands for */
	assert_true(pc_ssh_connection_parse("::ffff:192.0.2.5 40000 ::ffff:198.51.100.1 22", &c));
	assert_int_equal(c.family, PC_FAM_IPV4);
	addr(PC_FAM_IPV4, "192.0.2.5", a);
	assert_memory_equal(c.client, a, 16);
}

static void test_ssh_connection_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"192.0.2.5",
		"192.0.2.5 50000 198.51.100.1",
		"192.0.2.5 50000 198.51.100.1 22 extra",
		"192.0.2.5 50000 198.51.100.1 22 ",
		" 192.0.2.5 50000 198.51.100.1 22",
		"192.0.2.5  50000 198.51.100.1 22",
		"192.0.2.5\t50000 198.51.100.1 22",
		"192.0.2.5 50000 198.51.100.1 0",
		"192.0.2.5 0 198.51.100.1 22",
		"192.0.2.5 50000 198.51.100.1 65536",
		"192.0.2.5 50000 198.51.100.1 +22",
		"192.0.2.5 50000 198.51.100.1 22x",
		"192.0.2.5 -1 198.51.100.1 22",
		"192.0.2.5 123456 198.51.100.1 22",
		"client.example 50000 198.51.100.1 22",
		"192.0.2.256 50000 198.51.100.1 22",
		"192.0.2.5/24 50000 198.51.100.1 22",
		"192.0.2.5 50000 2001:db8::1 22",
		"0.0.0.0 50000 198.51.100.1 22",
		"224.0.0.5 50000 198.51.100.1 22",
		":: 50000 2001:db8::1 22",
		"ff02::1 50000 2001:db8::1 22",
		"fe80::5% 40000 fe80::1 22",
		"fe80::5%e;th0 40000 fe80::1 22",
		"192.0.2.5%eth0 50000 198.51.100.1 22",
		"$(reboot) 1 2 3",
	};
	struct pc_ssh_conn c;

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(bad); i++) {
		if (pc_ssh_connection_parse(bad[i], &c))
			fail_msg("accepted SSH_CONNECTION '%s'", bad[i]);
	}
}

static void test_proc_stat(void **state)
{
	char comm[16];
	long ppid;

	(void)state;
	assert_true(pc_proc_stat_parse("1234 (sshd) S 1 1234 1234 0 -1 4194560 ...\n", &ppid, comm));
	assert_string_equal(comm, "sshd");
	assert_int_equal(ppid, 1);
	/* a name with spaces and parentheses: the last ')' ends it */
	assert_true(pc_proc_stat_parse("77 (a) b) (c) R 76 77 0\n", &ppid, comm));
	assert_string_equal(comm, "a) b) (c");
	assert_int_equal(ppid, 76);
	assert_true(pc_proc_stat_parse("5 (sshd-session) S 4 5\n", &ppid, comm));
	assert_string_equal(comm, "sshd-session");
	assert_false(pc_proc_stat_parse("5 sshd S 4 5\n", &ppid, comm));
	assert_false(pc_proc_stat_parse("5 (sshd) S\n", &ppid, comm));
	assert_false(pc_proc_stat_parse("5 (this-name-is-too-long) S 4\n", &ppid, comm));
	assert_false(pc_proc_stat_parse("", &ppid, comm));
}

/* Hex of an address as the kernel prints it: 32-bit words in host order. */
static void kernel_hex(unsigned family, const uint8_t *a, char *out)
{
	out[0] = '\0';
	for (int w = 0; w < (family == PC_FAM_IPV4 ? 1 : 4); w++) {
		uint32_t v;

		memcpy(&v, a + 4 * w, 4);
		sprintf(out + strlen(out), "%08X", v);
	}
}

/* One line of /proc/net/tcp (tcp6 for IPv6 addresses), the kernel's format. */
static char *tcp_line(int sl, unsigned family, const char *local, unsigned lport,
		      const char *remote, unsigned rport, unsigned state, unsigned long inode)
{
	uint8_t l[16], r[16];
	char lh[40], rh[40];

	addr(family, local, l);
	addr(family, remote, r);
	kernel_hex(family, l, lh);
	kernel_hex(family, r, rh);
	return xasprintf("%4d: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000  1000        0 %lu 1 0000000000000000 20 4 30 10 -1\n",
			 sl, lh, lport, rh, rport, state, inode);
}

static void test_proc_tcp_line(void **state)
{
	struct pc_tcp_sock s;
	uint8_t a[16];
	char *line;

	(void)state;
	assert_false(pc_proc_tcp_parse_line("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", &s));
	line = tcp_line(0, PC_FAM_IPV4, "198.51.100.1", 22, "192.0.2.5", 50000, 1, 4242);
	assert_true(pc_proc_tcp_parse_line(line, &s));
	free(line);
	assert_int_equal(s.family, PC_FAM_IPV4);
	addr(PC_FAM_IPV4, "198.51.100.1", a);
	assert_memory_equal(s.local, a, 16);
	addr(PC_FAM_IPV4, "192.0.2.5", a);
	assert_memory_equal(s.remote, a, 16);
	assert_int_equal(s.lport, 22);
	assert_int_equal(s.rport, 50000);
	assert_int_equal(s.state, PC_TCP_ESTABLISHED);
	assert_int_equal(s.inode, 4242);

	line = tcp_line(3, PC_FAM_IPV6, "2001:db8::1", 2222, "2001:db8:ffff::5", 41000, 1, 99);
	assert_true(pc_proc_tcp_parse_line(line, &s));
	free(line);
	assert_int_equal(s.family, PC_FAM_IPV6);
	addr(PC_FAM_IPV6, "2001:db8:ffff::5", a);
	assert_memory_equal(s.remote, a, 16);
	assert_int_equal(s.lport, 2222);

	/* an IPv4 client of a dual-stack listener is IPv4 */
	line = tcp_line(4, PC_FAM_IPV6, "::ffff:198.51.100.1", 22, "::ffff:192.0.2.5", 50000, 1, 7);
	assert_true(pc_proc_tcp_parse_line(line, &s));
	free(line);
	assert_int_equal(s.family, PC_FAM_IPV4);
	addr(PC_FAM_IPV4, "192.0.2.5", a);
	assert_memory_equal(s.remote, a, 16);

	line = tcp_line(1, PC_FAM_IPV4, "0.0.0.0", 22, "0.0.0.0", 0, 10, 5);
	assert_true(pc_proc_tcp_parse_line(line, &s));
	free(line);
	assert_int_equal(s.state, PC_TCP_LISTEN);
	assert_false(pc_proc_tcp_parse_line("   0: 0100007F:0016 garbage", &s));
}

/* A fake /proc tree. */

static char *root;

static void put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", root, rel);
	FILE *f;

	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void link_to(const char *rel, const char *target)
{
	char *path = xasprintf("%s/%s", root, rel);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
	*slash = '/';
	assert_int_equal(symlink(target, path), 0);
	free(path);
}

/* Process @pid named @comm, child of @ppid, in network namespace @ns. */
static void proc(long pid, const char *comm, long ppid, const char *ns)
{
	char *rel = xasprintf("%ld/stat", pid), *text;

	text = xasprintf("%ld (%s) S %ld %ld %ld 0 -1 4194560 100 0 0 0\n", pid, comm, ppid, pid, pid);
	put(rel, text);
	free(rel);
	free(text);
	rel = xasprintf("%ld/comm", pid);
	text = xasprintf("%s\n", comm);
	put(rel, text);
	free(rel);
	free(text);
	rel = xasprintf("%ld/ns/net", pid);
	link_to(rel, ns);
	free(rel);
}

static void fd(long pid, int n, unsigned long inode)
{
	char *rel = xasprintf("%ld/fd/%d", pid, n), *target = xasprintf("socket:[%lu]", inode);

	link_to(rel, target);
	free(rel);
	free(target);
}

/* The TCP tables of @pid's namespace: the same sockets for every process here. */
static void tables(long pid, const char *tcp, const char *tcp6)
{
	char *rel = xasprintf("%ld/net/tcp", pid);

	put(rel, tcp);
	free(rel);
	rel = xasprintf("%ld/net/tcp6", pid);
	put(rel, tcp6);
	free(rel);
}

static char *tcp4_text, *tcp6_text;

static const char tcp_header[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

static int setup_tree(void **state)
{
	char tmpl[] = "/tmp/pc-lockout-XXXXXX";
	char *l[4];

	(void)state;
	root = xstrdup(mkdtemp(tmpl));
	l[0] = tcp_line(0, PC_FAM_IPV4, "0.0.0.0", 22, "0.0.0.0", 0, PC_TCP_LISTEN, 1000);
	l[1] = tcp_line(1, PC_FAM_IPV4, "198.51.100.1", 22, "192.0.2.5", 50000, PC_TCP_ESTABLISHED, 2000);
	/* a connection the session forwards (ssh -L): sshd is its client */
	l[2] = tcp_line(2, PC_FAM_IPV4, "198.51.100.1", 41000, "203.0.113.9", 80, PC_TCP_ESTABLISHED, 3000);
	l[3] = tcp_line(0, PC_FAM_IPV6, "::", 22, "::", 0, PC_TCP_LISTEN, 1001);
	tcp4_text = xasprintf("%s%s%s%s", tcp_header, l[0], l[1], l[2]);
	tcp6_text = xasprintf("%s%s", tcp_header, l[3]);
	for (int i = 0; i < 4; i++)
		free(l[i]);
	return 0;
}

static int teardown_tree(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
	free(tcp4_text);
	free(tcp6_text);
	return 0;
}

/* A fresh tree under @root/@name; @root is pointed at it. */
static char *subtree(const char *name)
{
	char *old = root;

	root = xasprintf("%s/%s", old, name);
	mkdir(root, 0755);
	return old;
}

#define NS "net:[4026531840]"

/*
 * systemd(1) - sshd(100, listener) - sshd-session(200, [priv]) -
 * sshd-session(300, user) - bash(400) - sudo(500) - portcullis(600)
 */
static void session_tree(const char *listener_comm, const char *sshd_ns)
{
	proc(1, "systemd", 0, NS);
	proc(100, listener_comm, 1, NS);
	fd(100, 3, 1000);
	fd(100, 4, 1001);
	proc(200, "sshd-session", 100, sshd_ns);
	fd(200, 5, 2000);
	proc(300, "sshd-session", 200, sshd_ns);
	fd(300, 3, 2000);
	fd(300, 9, 3000);
	proc(400, "bash", 300, NS);
	proc(500, "sudo", 400, NS);
	proc(600, "portcullis", 500, NS);
	fd(600, 0, 12345);  /* its own fds never count */
	for (long p = 1; p <= 600; p += (p == 1 ? 99 : 100))
		tables(p, tcp4_text, tcp6_text);
}

static void test_session_found(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("found");
	uint8_t a[16];

	(void)state;
	session_tree("sshd", NS);
	pc_ssh_session_find(root, 600, &s);
	assert_int_equal(s.sshd_pid, 300);
	assert_int_equal(s.n_conns, 1);
	assert_int_equal(s.conns[0].family, PC_FAM_IPV4);
	addr(PC_FAM_IPV4, "192.0.2.5", a);
	assert_memory_equal(s.conns[0].client, a, 16);
	addr(PC_FAM_IPV4, "198.51.100.1", a);
	assert_memory_equal(s.conns[0].server, a, 16);
	assert_int_equal(s.conns[0].cport, 50000);
	assert_int_equal(s.conns[0].sport, 22);
	assert_int_equal(s.n_ports, 1);
	assert_int_equal(s.ports[0], 22);
	free(root);
	root = old;
}

/* No listener among the ancestors (socket activation): the shared socket wins. */
static void test_session_no_listener(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("nolistener");

	(void)state;
	session_tree("systemd-socket", NS);
	pc_ssh_session_find(root, 600, &s);
	assert_int_equal(s.sshd_pid, 300);
	assert_int_equal(s.n_ports, 0);
	assert_int_equal(s.n_conns, 1);
	assert_int_equal(s.conns[0].cport, 50000);
	assert_int_equal(s.conns[0].sport, 22);
	free(root);
	root = old;
}

/* An sshd of another network namespace: its connection is not this firewall's. */
static void test_session_other_netns(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("otherns");

	(void)state;
	session_tree("sshd", "net:[4026532000]");
	pc_ssh_session_find(root, 600, &s);
	assert_int_equal(s.sshd_pid, 0);
	assert_int_equal(s.n_conns, 0);
	free(root);
	root = old;
}

/* sshd ancestor whose fds cannot be read: known to be SSH, client unknown. */
static void test_session_unreadable(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("unreadable");

	(void)state;
	proc(1, "systemd", 0, NS);
	proc(200, "sshd", 1, NS);
	proc(600, "portcullis", 200, NS);
	pc_ssh_session_find(root, 600, &s);
	assert_int_equal(s.sshd_pid, 200);
	assert_int_equal(s.n_conns, 0);
	free(root);
	root = old;
}

static void test_session_none(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("none");

	(void)state;
	proc(1, "systemd", 0, NS);
	proc(50, "agetty", 1, NS);
	proc(60, "bash", 50, NS);
	proc(70, "portcullis", 60, NS);
	pc_ssh_session_find(root, 70, &s);
	assert_int_equal(s.sshd_pid, 0);
	assert_int_equal(s.n_conns, 0);
	/* a missing process ends the walk quietly */
	pc_ssh_session_find(root, 999, &s);
	assert_int_equal(s.sshd_pid, 0);
	free(root);
	root = old;
}

/* The ports sshd listens on in this namespace, whoever the caller is. */
static void test_listen_ports(void **state)
{
	struct pc_ssh_session s;
	char *old = subtree("ports");
	char *l[3], *t4, *t6;

	(void)state;
	l[0] = tcp_line(0, PC_FAM_IPV4, "0.0.0.0", 2222, "0.0.0.0", 0, PC_TCP_LISTEN, 1000);
	l[1] = tcp_line(1, PC_FAM_IPV4, "0.0.0.0", 80, "0.0.0.0", 0, PC_TCP_LISTEN, 1100);
	l[2] = tcp_line(0, PC_FAM_IPV6, "::", 2222, "::", 0, PC_TCP_LISTEN, 1001);
	t4 = xasprintf("%s%s%s", tcp_header, l[0], l[1]);
	t6 = xasprintf("%s%s", tcp_header, l[2]);
	proc(1, "systemd", 0, NS);
	proc(100, "sshd", 1, NS);
	fd(100, 3, 1000);
	fd(100, 4, 1001);
	proc(110, "nginx", 1, NS);
	fd(110, 6, 1100);
	proc(120, "sshd", 1, "net:[4026532000]");
	fd(120, 3, 1100);
	proc(70, "portcullis", 1, NS);
	for (long p = 1; p <= 120; p++) {
		char *rel = xasprintf("%ld/stat", p), *path = xasprintf("%s/%s", root, rel);

		if (access(path, F_OK) == 0)
			tables(p, t4, t6);
		free(rel);
		free(path);
	}
	put("self", "not a process");
	memset(&s, 0, sizeof(s));
	pc_sshd_listen_ports(root, 70, &s);
	assert_int_equal(s.n_ports, 1);
	assert_int_equal(s.ports[0], 2222);
	for (int i = 0; i < 3; i++)
		free(l[i]);
	free(t4);
	free(t6);
	free(root);
	root = old;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_connection_valid),
		cmocka_unit_test(test_ssh_connection_garbage),
		cmocka_unit_test(test_proc_stat),
		cmocka_unit_test(test_proc_tcp_line),
		cmocka_unit_test(test_session_found),
		cmocka_unit_test(test_session_no_listener),
		cmocka_unit_test(test_session_other_netns),
		cmocka_unit_test(test_session_unreadable),
		cmocka_unit_test(test_session_none),
		cmocka_unit_test(test_listen_ports),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
