/* SPDX-License-Identifier: MIT */
/**
 * DOC: the lockout guard of `portcullis apply`
 *
 * Who is the SSH client of this session, and would the policy keep it out?
 * The client comes from two places: SSH_CONNECTION, read strictly (sudo
 * drops it, anyone can set it), and the TCP connection of the sshd process
 * that serves the session, found by walking the process's ancestors in
 * /proc to an sshd and matching its socket fds (/proc/PID/fd) to the TCP
 * tables of its network namespace (/proc/PID/net/tcp and tcp6) by inode.
 *
 * When no client can be identified although the session looks like SSH, or
 * an sshd listens in this network namespace, any source address might be
 * the one the administrator comes from: a policy that would drop a new
 * connection to sshd's port from some source is refused unless --force or
 * --confirm (whose rollback then is the safety net) is given.
 *
 * The parsers take text and a /proc directory as parameters so that tests
 * can run them over fake /proc trees.
 */
#ifndef PORTCULLIS_LOCKOUT_H
#define PORTCULLIS_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/ir.h>

/**
 * struct pc_ssh_conn - one SSH connection, seen from the server
 * @family: PC_FAM_IPV4 or PC_FAM_IPV6 (an IPv4-mapped IPv6 address is IPv4)
 * @client: the client's address, network byte order (IPv4 in the first 4 bytes)
 * @server: this host's address
 * @cport:  the client's port
 * @sport:  sshd's port
 */
struct pc_ssh_conn {
	unsigned family;
	uint8_t client[16];
	uint8_t server[16];
	uint16_t cport;
	uint16_t sport;
};

/**
 * pc_ssh_connection_parse() - read SSH_CONNECTION strictly
 * @text: "CLIENT CPORT SERVER SPORT": numeric addresses of one family (an
 *        IPv6 address may carry a %zone), decimal ports 1-65535, single
 *        spaces, nothing else; neither address unspecified nor multicast
 * @c:    filled on success
 *
 * Return: true when @text is such a line.
 */
bool pc_ssh_connection_parse(const char *text, struct pc_ssh_conn *c);

/**
 * pc_proc_stat_parse() - the parent and name of a process from /proc/PID/stat
 * @text: the file's content ("PID (COMM) STATE PPID ..."; COMM may hold
 *        spaces and parentheses)
 * @ppid: receives the parent's pid
 * @comm: receives the name (at most 15 bytes and a NUL)
 */
bool pc_proc_stat_parse(const char *text, long *ppid, char comm[16]);

enum { PC_TCP_ESTABLISHED = 1, PC_TCP_LISTEN = 10 };

/**
 * struct pc_tcp_sock - one line of /proc/net/tcp or /proc/net/tcp6
 * @family: PC_FAM_IPV4 or PC_FAM_IPV6 (IPv4-mapped addresses are IPv4)
 * @local:  local address, network byte order
 * @remote: remote address
 * @lport:  local port
 * @rport:  remote port
 * @state:  the kernel's TCP state (PC_TCP_ESTABLISHED, PC_TCP_LISTEN, ...)
 * @inode:  the socket's inode (what /proc/PID/fd/N links to: socket:[INODE])
 */
struct pc_tcp_sock {
	unsigned family;
	uint8_t local[16];
	uint8_t remote[16];
	uint16_t lport;
	uint16_t rport;
	unsigned state;
	unsigned long inode;
};

/* Reads one line of /proc/net/tcp or tcp6 (false for the header or a malformed line). */
bool pc_proc_tcp_parse_line(const char *line, struct pc_tcp_sock *s);

#define PC_SSH_MAX_CONNS 8
#define PC_SSH_MAX_PORTS 8

/**
 * struct pc_ssh_session - what /proc says about the SSH session of a process
 * @sshd_pid: the nearest sshd ancestor in the process's network namespace,
 *            0 when there is none
 * @n_conns:  number of @conns
 * @conns:    the session's connection(s) as that sshd's sockets show them
 * @n_ports:  number of @ports
 * @ports:    ports an sshd listens on in the process's network namespace
 */
struct pc_ssh_session {
	long sshd_pid;
	size_t n_conns;
	struct pc_ssh_conn conns[PC_SSH_MAX_CONNS];
	size_t n_ports;
	uint16_t ports[PC_SSH_MAX_PORTS];
};

/**
 * pc_ssh_session_find() - the SSH connection a process runs over
 * @procdir: "/proc", or a fake tree of the same shape (tests)
 * @pid:     the process (its ancestors are walked up to pid 1)
 * @s:       filled in (zeroed first)
 *
 * An ancestor is an sshd when its name (comm) is "sshd" or "sshd-session".
 * Its established TCP sockets are the candidates: those whose local port
 * some sshd ancestor listens on (the listener), or, when no listener is
 * visible, those held by the most sshd ancestors (the privilege-separated
 * pair shares the session's socket; forwarded connections are the
 * unprivileged child's own). An sshd in another network namespace ends the
 * walk: this namespace's firewall is not in its connection's way.
 */
void pc_ssh_session_find(const char *procdir, long pid, struct pc_ssh_session *s);

/**
 * pc_sshd_listen_ports() - add the ports any sshd listens on
 * @procdir: as for pc_ssh_session_find()
 * @pid:     a process of the network namespace that counts
 * @s:       its @ports are completed (no duplicates)
 */
void pc_sshd_listen_ports(const char *procdir, long pid, struct pc_ssh_session *s);

/**
 * pc_lockout_check() - would @ir keep this session's SSH client out?
 * @ir:      the policy
 * @force:   only warn
 * @confirm: the apply rolls back unless confirmed: an unidentified client
 *           is then a warning, an identified one that would be blocked
 *           still an error
 *
 * Explains on stderr what it refuses or warns about.
 *
 * Return: 0 to go on, 1 to refuse.
 */
int pc_lockout_check(const struct pc_ir *ir, bool force, bool confirm);

#endif
