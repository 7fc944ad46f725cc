/* SPDX-License-Identifier: MIT */
/* The lockout guard of `portcullis apply` (see lockout.h). */
#include "cli/lockout.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ir/eval.h"
#include "common/util.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An IPv4-mapped IPv6 address becomes the IPv4 address it stands for. */
static void unmap(unsigned *family, uint8_t a[16])
{
	if (*family == PC_FAM_IPV6 && memcmp(a, v4mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = PC_FAM_IPV4;
	}
}

/* A numeric address of SSH_CONNECTION: @len bytes at @s. */
static bool parse_addr(const char *s, size_t len, unsigned *family, uint8_t a[16])
{
	static const uint8_t zero[16];
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	char *pct;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, 16);
	pct = strchr(buf, '%');
	if (pct) {
		/* a link-local address's zone: an interface name or index */
		if (!pct[1] || strlen(pct + 1) >= IF_NAMESIZE)
			return false;
		for (const char *z = pct + 1; *z; z++)
			if (!isalnum((unsigned char)*z) && !strchr("._-@:", *z))
				return false;
		*pct = '\0';
		if (inet_pton(AF_INET6, buf, a) != 1)
			return false;
		*family = PC_FAM_IPV6;
	} else if (inet_pton(AF_INET, buf, a) == 1) {
		*family = PC_FAM_IPV4;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		*family = PC_FAM_IPV6;
	} else {
		return false;
	}
	unmap(family, a);
	/* neither unspecified nor multicast: no SSH client or server is */
	if (*family == PC_FAM_IPV4)
		return memcmp(a, zero, 4) != 0 && (a[0] & 0xf0) != 0xe0;
	return memcmp(a, zero, 16) != 0 && a[0] != 0xff;
}

/* A decimal port 1-65535 of @len bytes at @s: digits only. */
static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool pc_ssh_connection_parse(const char *text, struct pc_ssh_conn *c)
{
	const char *field[4];
	size_t len[4];
	const char *p = text;
	unsigned sfam;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 4; i++) {
		field[i] = p;
		while (*p && *p != ' ')
			p++;
		len[i] = (size_t)(p - field[i]);
		if (i < 3) {
			if (*p != ' ')
				return false;
			p++;
		}
	}
	if (*p)
		return false;
	return parse_addr(field[0], len[0], &c->family, c->client) &&
	       parse_port(field[1], len[1], &c->cport) &&
	       parse_addr(field[2], len[2], &sfam, c->server) &&
	       parse_port(field[3], len[3], &c->sport) && sfam == c->family;
}

bool pc_proc_stat_parse(const char *text, long *ppid, char comm[16])
{
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	size_t n;
	char state;

	if (!open || !close || close < open)
		return false;
	n = (size_t)(close - open - 1);
	if (n > 15)
		return false;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	return sscanf(close + 1, " %c %ld", &state, ppid) == 2 && *ppid >= 0;
}

/* @n hex digits of /proc/net/tcp: 32-bit words as the kernel printed them (host order). */
static bool parse_hex_addr(const char *hex, uint8_t a[16], unsigned *family)
{
	size_t n = strlen(hex);

	if (n != 8 && n != 32)
		return false;
	memset(a, 0, 16);
	for (size_t w = 0; w < n / 8; w++) {
		char word[9];
		uint32_t v;
		char *end;

		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, &end, 16);
		if (*end)
			return false;
		memcpy(a + 4 * w, &v, 4);
	}
	*family = n == 8 ? PC_FAM_IPV4 : PC_FAM_IPV6;
	unmap(family, a);
	return true;
}

bool pc_proc_tcp_parse_line(const char *line, struct pc_tcp_sock *s)
{
	char la[33], ra[33];
	unsigned lp, rp, st, rfam;

	memset(s, 0, sizeof(*s));
	if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%4x %32[0-9A-Fa-f]:%4x %2x %*x:%*x %*x:%*x %*x %*u %*u %lu",
		   la, &lp, ra, &rp, &st, &s->inode) != 6)
		return false;
	if (!parse_hex_addr(la, s->local, &s->family) || !parse_hex_addr(ra, s->remote, &rfam))
		return false;
	s->lport = (uint16_t)lp;
	s->rport = (uint16_t)rp;
	s->state = st;
	return true;
}

/* Reads the link PROCDIR/PID/WHAT into @buf (NUL-terminated). */
static bool read_proc_link(const char *procdir, long pid, const char *what,
			   char *buf, size_t len)
{
	char *path = xasprintf("%s/%ld/%s", procdir, pid, what);
	ssize_t n = readlink(path, buf, len - 1);

	free(path);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

static bool read_stat(const char *procdir, long pid, long *ppid, char comm[16])
{
	char *path = xasprintf("%s/%ld/stat", procdir, pid);
	char *text = pc_read_file(path, NULL);
	bool ok = text && pc_proc_stat_parse(text, ppid, comm);

	free(text);
	free(path);
	return ok;
}

/*
 * The name of process @pid from PROCDIR/PID/comm: one small read, where
 * /proc/PID/stat makes the kernel gather the process's statistics
 * (scanning every process with it cost a millisecond and more).
 */
static bool read_comm(const char *procdir, long pid, char comm[16])
{
	char *path = xasprintf("%s/%ld/comm", procdir, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	free(path);
	if (fd < 0)
		return false;
	do
		n = read(fd, comm, 15);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return true;
}

static bool is_sshd(const char *comm)
{
	return strcmp(comm, "sshd") == 0 || strcmp(comm, "sshd-session") == 0;
}

/* Different network namespaces (unknown counts as the same: fail closed). */
static bool other_netns(const char *procdir, long pid, const char *ns)
{
	char buf[64];

	return ns[0] && read_proc_link(procdir, pid, "ns/net", buf, sizeof(buf)) &&
	       strcmp(buf, ns) != 0;
}

static void add_port(struct pc_ssh_session *s, uint16_t port)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i] == port)
			return;
	if (s->n_ports < PC_SSH_MAX_PORTS)
		s->ports[s->n_ports++] = port;
}

/* An established socket of an sshd ancestor. */
struct candidate {
	struct pc_tcp_sock sock;
	unsigned holders;   /* sshd ancestors with an fd of it */
};

struct candidates {
	struct candidate *v;
	size_t n, cap;
};

/*
 * The TCP sockets of process @pid: listening ones add their port to @s,
 * established ones go to @cands (when not NULL).
 */
static void collect_sockets(const char *procdir, long pid, struct pc_ssh_session *s,
			    struct candidates *cands)
{
	unsigned long *inodes = NULL;
	size_t n_inodes = 0, cap = 0;
	char *path = xasprintf("%s/%ld/fd", procdir, pid);
	DIR *d = opendir(path);
	struct dirent *e;

	free(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char link[64];
		unsigned long ino;
		char *what;

		if (e->d_name[0] == '.')
			continue;
		what = xasprintf("fd/%s", e->d_name);
		if (read_proc_link(procdir, pid, what, link, sizeof(link)) &&
		    sscanf(link, "socket:[%lu]", &ino) == 1) {
			inodes = xgrow(inodes, &cap, n_inodes + 1, sizeof(*inodes));
			inodes[n_inodes++] = ino;
		}
		free(what);
	}
	closedir(d);
	for (int t = 0; t < 2 && n_inodes; t++) {
		char *text, *line, *save = NULL;

		path = xasprintf("%s/%ld/net/%s", procdir, pid, t ? "tcp6" : "tcp");
		text = pc_read_file(path, NULL);
		free(path);
		if (!text)
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			struct pc_tcp_sock sock;
			size_t i, k;

			if (!pc_proc_tcp_parse_line(line, &sock) || !sock.inode)
				continue;
			for (i = 0; i < n_inodes && inodes[i] != sock.inode; i++)
				;
			if (i == n_inodes)
				continue;
			if (sock.state == PC_TCP_LISTEN) {
				add_port(s, sock.lport);
			} else if (sock.state == PC_TCP_ESTABLISHED && cands) {
				for (k = 0; k < cands->n && cands->v[k].sock.inode != sock.inode; k++)
					;
				if (k == cands->n) {
					cands->v = xgrow(cands->v, &cands->cap, cands->n + 1,
							 sizeof(*cands->v));
					cands->v[cands->n++] = (struct candidate){ sock, 0 };
				}
				cands->v[k].holders++;
			}
		}
		free(text);
	}
	free(inodes);
}

static bool has_port(const struct pc_ssh_session *s, uint16_t port)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i] == port)
			return true;
	return false;
}

void pc_ssh_session_find(const char *procdir, long pid, struct pc_ssh_session *s)
{
	struct candidates cands = { 0 };
	unsigned most = 0;
	char ns[64] = "";

	memset(s, 0, sizeof(*s));
	read_proc_link(procdir, pid, "ns/net", ns, sizeof(ns));
	/* a bound on the walk: /proc may change under it */
	for (int depth = 0; pid > 0 && depth < 256; depth++) {
		char comm[16];
		long ppid;

		if (!read_stat(procdir, pid, &ppid, comm))
			break;
		if (is_sshd(comm)) {
			if (other_netns(procdir, pid, ns))
				break;
			if (!s->sshd_pid)
				s->sshd_pid = pid;
			collect_sockets(procdir, pid, s, &cands);
		}
		if (ppid == pid)
			break;
		pid = ppid;
	}
	for (size_t i = 0; i < cands.n; i++)
		if (cands.v[i].holders > most)
			most = cands.v[i].holders;
	for (size_t i = 0; i < cands.n && s->n_conns < PC_SSH_MAX_CONNS; i++) {
		const struct pc_tcp_sock *k = &cands.v[i].sock;
		struct pc_ssh_conn *c;

		if (s->n_ports ? !has_port(s, k->lport) : cands.v[i].holders < most)
			continue;
		c = &s->conns[s->n_conns++];
		c->family = k->family;
		memcpy(c->client, k->remote, 16);
		memcpy(c->server, k->local, 16);
		c->cport = k->rport;
		c->sport = k->lport;
	}
	free(cands.v);
}

void pc_sshd_listen_ports(const char *procdir, long pid, struct pc_ssh_session *s)
{
	char ns[64] = "";
	struct dirent *e;
	DIR *d;

	read_proc_link(procdir, pid, "ns/net", ns, sizeof(ns));
	d = opendir(procdir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char comm[16], *end;
		long p = strtol(e->d_name, &end, 10);

		if (*end || p <= 0 || !read_comm(procdir, p, comm) || !is_sshd(comm) ||
		    other_netns(procdir, p, ns))
			continue;
		collect_sockets(procdir, p, s, NULL);
	}
	closedir(d);
}

/*
 * Does any TCP socket listen in this network namespace? 1 yes, 0 no, -1
 * cannot tell. One sock_diag dump of listening sockets: it spares the
 * scan of every process when no sshd can be listening (namespaces, and
 * hosts that serve nothing), which costs about a millisecond.
 */
static int tcp_listener_exists(void)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int found = 0;

	if (fd < 0)
		return -1;
	for (size_t f = 0; f < PC_ARRAY_SIZE(families) && found == 0; f++) {
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req_v2 req;
		} msg = {
			.nlh = {
				.nlmsg_len = sizeof(msg),
				.nlmsg_type = SOCK_DIAG_BY_FAMILY,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			},
			.req = {
				.sdiag_family = families[f],
				.sdiag_protocol = IPPROTO_TCP,
				.idiag_states = 1u << PC_TCP_LISTEN,
			},
		};
		bool done = false;

		if (send(fd, &msg, sizeof(msg), 0) < 0) {
			found = -1;
			break;
		}
		while (!done && found == 0) {
			_Alignas(struct nlmsghdr) char buf[8192];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				found = -1;
				break;
			}
			for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
				if (h->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				if (h->nlmsg_type == NLMSG_ERROR) {
					found = -1;
					break;
				}
				if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
					found = 1;
					break;
				}
			}
		}
	}
	close(fd);
	return found;
}

/* The policy's verdict on SSH. */

static void addr_str(unsigned family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == PC_FAM_IPV4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* The interface that holds @addr (where the SSH connection comes in). */
static bool iface_of(unsigned family, const uint8_t *addr, char name[IF_NAMESIZE])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (family == PC_FAM_IPV4 && i->ifa_addr->sa_family == AF_INET)
			found = memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr,
				       addr, 4) == 0;
		else if (family == PC_FAM_IPV6 && i->ifa_addr->sa_family == AF_INET6)
			found = memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				       addr, 16) == 0;
		if (found)
			snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
	}
	freeifaddrs(ifa);
	return found;
}

static void decided_by(const struct pc_ir *ir, enum pc_direction dir, long idx,
		       char *buf, size_t len)
{
	const struct pc_location *loc;

	if (idx < 0) {
		loc = &ir->chains[dir].policy_loc;
		if (loc->file && loc->line)
			snprintf(buf, len, "the default of %s at %s:%u",
				 pc_direction_name(dir), loc->file, loc->line);
		else
			snprintf(buf, len, "the default of %s", pc_direction_name(dir));
		return;
	}
	loc = &ir->chains[dir].rules[idx].loc;
	if (loc->file && loc->line)
		snprintf(buf, len, "%s:%u", loc->file, loc->line);
	else
		snprintf(buf, len, "a built-in rule");
}

/*
 * False when @p gets through @ir. Else says on stderr what the policy would
 * do to @what (@note, when not empty, before the deciding rule): true.
 */
static bool guard_blocks(const struct pc_ir *ir, const struct pc_packet *p, bool force,
			 const char *what, const char *note)
{
	char by[512];
	enum pc_verdict v;
	long idx = pc_ir_eval(ir, p, &v);

	if (v == PC_VERDICT_ALLOW)
		return false;
	decided_by(ir, p->dir, idx, by, sizeof(by));
	fprintf(stderr, "portcullis apply: %s: this policy would %s %s (%sdecided by %s)%s\n",
		force ? "warning" : "refusing", v == PC_VERDICT_REJECT ? "reject" : "drop",
		what, note, by, force ? "" : "; --force applies it anyway");
	return true;
}

/* 1 when the policy would keep the client of @c out (explained), else 0. */
static int check_conn(const struct pc_ir *ir, const struct pc_ssh_conn *c, bool force,
		      const char *source)
{
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "";
	char what[400], note[200];
	struct pc_packet p, reply;

	addr_str(c->family, c->client, cip, sizeof(cip));
	addr_str(c->family, c->server, sip, sizeof(sip));
	pc_packet_init(&p);
	p.dir = PC_DIR_IN;
	p.family = c->family;
	p.proto = PC_PROTO_TCP;
	p.ct_state = PC_CT_NEW;
	memcpy(p.saddr, c->client, 16);
	memcpy(p.daddr, c->server, 16);
	p.dport = c->sport;
	if (iface_of(c->family, c->server, ifname))
		p.iface = ifname;
	snprintf(what, sizeof(what), "new SSH connections from %s to %s port %u",
		 cip, sip, c->sport);
	snprintf(note, sizeof(note), "the connection this runs over (%s); ", source);
	if (guard_blocks(ir, &p, force, what, note))
		return force ? 0 : 1;
	/* The server's answers must get out too (stateless policies). */
	reply = p;
	reply.dir = PC_DIR_OUT;
	memcpy(reply.saddr, c->server, 16);
	memcpy(reply.daddr, c->client, 16);
	reply.dport = c->cport;
	reply.ct_state = PC_CT_ESTABLISHED;
	snprintf(what, sizeof(what), "the SSH server's replies from %s port %u to %s port %u",
		 sip, c->sport, cip, c->cport);
	return guard_blocks(ir, &reply, force, what, "") && !force;
}

struct probe_addr {
	unsigned family;
	uint8_t a[16];
};

struct probe_addrs {
	struct probe_addr *v;
	size_t n, cap;
};

static void probe_add(struct probe_addrs *s, unsigned family, const uint8_t *a)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n].family = family;
	memset(s->v[s->n].a, 0, 16);
	memcpy(s->v[s->n].a, a, family == PC_FAM_IPV4 ? 4 : 16);
	s->n++;
}

/* The first address of @pfx and the one after its last (when there is one). */
static void probe_add_bounds(struct probe_addrs *s, const struct pc_addr *pfx)
{
	size_t bytes = pfx->family == PC_FAM_IPV4 ? 4 : 16;
	uint8_t lo[16] = { 0 }, hi[16] = { 0 };
	int carry = 1;

	for (size_t i = 0; i < bytes; i++) {
		unsigned bits = pfx->plen > 8 * i ? pfx->plen - 8 * (unsigned)i : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		lo[i] = pfx->a[i] & mask;
		hi[i] = lo[i] | (uint8_t)~mask;
	}
	probe_add(s, pfx->family, lo);
	for (size_t i = bytes; i-- > 0 && carry;) {
		hi[i]++;
		carry = hi[i] == 0;
	}
	if (!carry)
		probe_add(s, pfx->family, hi);
}

/* Could @r decide a new TCP connection to @port? */
static bool rule_may_match(const struct pc_rule *r, uint16_t port)
{
	if (r->n_map) {
		for (size_t i = 0; i < r->n_map; i++)
			if (r->map[i].proto == PC_PROTO_TCP && r->map[i].dport.lo <= port &&
			    port <= r->map[i].dport.hi)
				return true;
		return false;
	}
	if (r->n_l4 == 0)
		return true;
	for (size_t i = 0; i < r->n_l4; i++)
		if (r->l4[i].proto == PC_PROTO_TCP && pc_port_set_contains(&r->l4[i].dports, port))
			return true;
	return false;
}

/*
 * A new TCP connection to @port of this host that @ir would not let in,
 * for some source address: the verdict only changes at the bounds of the
 * source prefixes the rules name, so the first address of each region
 * (and any address) covers them all. The destinations are this host's
 * addresses with their interfaces. True with @p (and @ifname) set.
 */
static bool find_blocked(const struct pc_ir *ir, uint16_t port, struct pc_packet *p,
			 char ifname[IF_NAMESIZE])
{
	const struct pc_chain *c = &ir->chains[PC_DIR_IN];
	struct probe_addrs src = { 0 }, dst = { 0 };
	char **dst_if = NULL;
	size_t dst_if_cap = 0;
	struct ifaddrs *ifa = NULL;
	static const uint8_t zero[16];
	bool found = false;

	probe_add(&src, PC_FAM_IPV4, zero);
	probe_add(&src, PC_FAM_IPV6, zero);
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];

		if (!rule_may_match(r, port))
			continue;
		for (size_t k = 0; k < r->saddr.n; k++)
			probe_add_bounds(&src, &r->saddr.v[k]);
		for (size_t k = 0; k < r->n_map; k++)
			probe_add_bounds(&src, &r->map[k].saddr);
	}
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			const uint8_t *a;
			unsigned fam;

			if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			if (i->ifa_addr->sa_family == AF_INET) {
				fam = PC_FAM_IPV4;
				a = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				fam = PC_FAM_IPV6;
				a = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			} else {
				continue;
			}
			probe_add(&dst, fam, a);
			dst_if = xgrow(dst_if, &dst_if_cap, dst.n, sizeof(*dst_if));
			dst_if[dst.n - 1] = xstrdup(i->ifa_name);
		}
		freeifaddrs(ifa);
	}
	if (dst.n == 0) {
		/* no address yet: any destination, no interface */
		probe_add(&dst, PC_FAM_IPV4, zero);
		probe_add(&dst, PC_FAM_IPV6, zero);
		dst_if = xgrow(dst_if, &dst_if_cap, 2, sizeof(*dst_if));
		dst_if[0] = dst_if[1] = NULL;
	}
	for (size_t d = 0; d < dst.n && !found; d++) {
		for (size_t s = 0; s < src.n && !found; s++) {
			enum pc_verdict v;

			if (src.v[s].family != dst.v[d].family)
				continue;
			pc_packet_init(p);
			p->dir = PC_DIR_IN;
			p->family = src.v[s].family;
			p->proto = PC_PROTO_TCP;
			p->ct_state = PC_CT_NEW;
			p->dport = port;
			memcpy(p->saddr, src.v[s].a, 16);
			memcpy(p->daddr, dst.v[d].a, 16);
			if (dst_if[d]) {
				snprintf(ifname, IF_NAMESIZE, "%s", dst_if[d]);
				p->iface = ifname;
			}
			pc_ir_eval(ir, p, &v);
			found = v != PC_VERDICT_ALLOW;
		}
	}
	for (size_t d = 0; d < dst.n; d++)
		free(dst_if[d]);
	free(dst_if);
	free(src.v);
	free(dst.v);
	return found;
}

int pc_lockout_check(const struct pc_ir *ir, bool force, bool confirm)
{
	const char *env = getenv("SSH_CONNECTION");
	struct pc_ssh_session s;
	struct pc_ssh_conn envc;
	char why[300] = "";
	bool env_ok = false;
	int blocked = 0;

	pc_ssh_session_find("/proc", (long)getpid(), &s);
	if (env && *env) {
		env_ok = pc_ssh_connection_parse(env, &envc);
		if (!env_ok)
			snprintf(why, sizeof(why), "SSH_CONNECTION '%.200s' is malformed", env);
	}
	if (env_ok)
		blocked |= check_conn(ir, &envc, force, "SSH_CONNECTION");
	for (size_t i = 0; i < s.n_conns; i++) {
		char source[64];

		if (env_ok && memcmp(&s.conns[i], &envc, sizeof(envc)) == 0)
			continue;
		snprintf(source, sizeof(source), "sshd, pid %ld", s.sshd_pid);
		blocked |= check_conn(ir, &s.conns[i], force, source);
	}
	if (env_ok || s.n_conns)
		return blocked;

	/*
	 * No client known. If this is an SSH session, or sshd listens here (a
	 * terminal multiplexer outlives the session's process tree), the client
	 * may be any address: a policy that keeps some source out of sshd's
	 * port may keep the administrator out.
	 */
	if (s.sshd_pid)
		snprintf(why, sizeof(why),
			 "this runs under sshd (pid %ld) but its connection cannot be read from /proc",
			 s.sshd_pid);
	else if (!why[0] && ((getenv("SSH_CLIENT") && *getenv("SSH_CLIENT")) ||
			     (getenv("SSH_TTY") && *getenv("SSH_TTY"))))
		snprintf(why, sizeof(why), "SSH_CLIENT or SSH_TTY is set, SSH_CONNECTION is not");
	if (why[0] || tcp_listener_exists() != 0)
		pc_sshd_listen_ports("/proc", (long)getpid(), &s);
	if (!why[0] && s.n_ports == 0)
		return 0;   /* no sshd here: no SSH session to lose */
	if (!why[0])
		snprintf(why, sizeof(why),
			 "no SSH client of this session could be identified, and sshd listens here");
	if (s.n_ports == 0)
		add_port(&s, 22);
	for (size_t i = 0; i < s.n_ports; i++) {
		char ifname[IF_NAMESIZE] = "", sip[INET6_ADDRSTRLEN], cip[INET6_ADDRSTRLEN];
		char by[512];
		struct pc_packet p;
		enum pc_verdict v;
		long idx;

		if (!find_blocked(ir, s.ports[i], &p, ifname))
			continue;
		idx = pc_ir_eval(ir, &p, &v);
		decided_by(ir, PC_DIR_IN, idx, by, sizeof(by));
		addr_str(p.family, p.saddr, cip, sizeof(cip));
		addr_str(p.family, p.daddr, sip, sizeof(sip));
		fprintf(stderr, "portcullis apply: %s: %s; this policy would %s new SSH "
			"connections to %s port %u from some sources (such as %s, decided by %s), "
			"and the client may be among them%s\n",
			force || confirm ? "warning" : "refusing", why,
			v == PC_VERDICT_REJECT ? "reject" : "drop", sip, s.ports[i], cip, by,
			force ? "" : confirm ? "; --confirm rolls it back unless confirmed"
					     : "; --confirm SECONDS applies it with an automatic "
					       "rollback, --force applies it anyway");
		if (!force && !confirm)
			return 1;
	}
	return 0;
}
