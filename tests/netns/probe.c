/* SPDX-License-Identifier: MIT */
/*
 * The probe of the namespace tests: sends one TCP connection attempt or one
 * UDP datagram and says what the network did with it, or answers them.
 *
 *   probe tcp|udp|icmp ADDR PORT TIMEOUT_MS [SPORT]
 *       prints accepted (TCP: connected; UDP: the echo came back; ICMP:
 *       the echo reply to an echo request came back),
 *       rejected (TCP reset or ICMP unreachable: ECONNREFUSED,
 *       EHOSTUNREACH, ENETUNREACH, EACCES) or dropped (no answer within
 *       TIMEOUT_MS, or the local firewall refused to send: EPERM).
 *       SPORT binds the source port (ICMP: the echo identifier; PORT is
 *       ignored). ICMP uses a ping socket: net.ipv4.ping_group_range must
 *       include the caller's group. Exit 0, or 3 on a system error.
 *   probe serve [-r FILE] tcp|udp PORT... [tcp|udp PORT...]...
 *       listens on IPv4 and IPv6 for every port: accepts and closes TCP
 *       connections, echoes UDP datagrams; creates FILE once listening;
 *       runs until killed. A TCP connection is told, before it is
 *       closed, the address and port it came from as the listener saw
 *       them ("198.51.100.1 40000\n"): the NAT tests read it.
 *   probe peer ADDR PORT TIMEOUT_MS
 *       connects over TCP and prints what the listener says: the source
 *       address and port it saw (after any NAT); "dropped" or "rejected"
 *       as above when there is no connection. Exit 0, or 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/errqueue.h>

enum { EXIT_USAGE = 2, EXIT_SYS = 3, MAX_SOCKS = 256 };

static _Noreturn void usage(void)
{
	fputs("usage: probe tcp|udp|icmp ADDR PORT TIMEOUT_MS [SPORT]\n"
	      "       probe serve [-r READY_FILE] tcp|udp PORT... [tcp|udp PORT...]...\n",
	      stderr);
	exit(EXIT_USAGE);
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 65535)
		usage();
	return (int)v;
}

static int parse_addr(const char *s, int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

/* Errors that mean the network answered "no". */
static int classify_error(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
		return 1;
	case EPERM:
		return 0; /* the local firewall dropped it on the way out */
	default:
		return -1;
	}
}

static int report(int err)
{
	int c = classify_error(err);

	if (c < 0) {
		fprintf(stderr, "probe: %s\n", strerror(err));
		return EXIT_SYS;
	}
	puts(c ? "rejected" : "dropped");
	return 0;
}

/*
 * An ICMP error for a connecting TCP socket can arrive while connect()
 * still holds the socket; the kernel then keeps it only as a soft error
 * (TcpExtLockDroppedIcmps) and reports nothing until the next SYN, a second
 * later. With IP_RECVERR / IPV6_RECVERR it is always queued on the error
 * queue, which is read here. Returns the errno of a queued ICMP error, 0
 * when there is none.
 */
static int icmp_error(int fd)
{
	char data[256], control[512];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		const struct sock_extended_err *ee;

		if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
		      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
			continue;
		ee = (const struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6)
			return (int)ee->ee_errno;
	}
	return 0;
}

enum kind { KIND_TCP, KIND_UDP, KIND_ICMP };

/* What a UDP or ICMP probe sends: for ICMP an echo request header first. */
static size_t make_datagram(enum kind kind, int family, char *buf)
{
	static const char text[] = "portcullis probe";
	size_t off = 0;

	if (kind == KIND_ICMP) {
		/* type, code, checksum and id are filled in by the ping socket */
		memset(buf, 0, 8);
		buf[0] = (char)(family == AF_INET ? 8 : 128);
		buf[7] = 1; /* sequence number */
		off = 8;
	}
	memcpy(buf + off, text, sizeof(text));
	return off + sizeof(text);
}

/* Is @got (of @n bytes) the answer to @sent? */
static int is_answer(enum kind kind, int family, const char *sent, size_t len,
		     const char *got, ssize_t n)
{
	if (n < 0 || (size_t)n != len)
		return 0;
	if (kind == KIND_ICMP)
		return (unsigned char)got[0] == (family == AF_INET ? 0 : 129) &&
		       memcmp(got + 8, sent + 8, len - 8) == 0;
	return memcmp(got, sent, len) == 0;
}

static int probe(enum kind kind, const char *addr, int port, int timeout_ms, int sport)
{
	struct sockaddr_storage ss, src;
	socklen_t len, slen;
	struct pollfd pfd;
	int fd, rc = EXIT_SYS, one = 1, type, proto = 0;

	if (parse_addr(addr, kind == KIND_ICMP ? 0 : port, &ss, &len) < 0)
		usage();
	type = kind == KIND_TCP ? SOCK_STREAM : SOCK_DGRAM;
	if (kind == KIND_ICMP)
		proto = ss.ss_family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK, proto);
	if (fd < 0) {
		perror("probe: socket");
		return EXIT_SYS;
	}
	if (sport >= 0) {
		parse_addr(ss.ss_family == AF_INET ? "0.0.0.0" : "::", sport, &src, &slen);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, slen) < 0) {
			perror("probe: bind");
			goto out;
		}
	}
	if (ss.ss_family == AF_INET)
		setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
	pfd.fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		rc = report(errno);
		goto out;
	}
	if (kind == KIND_TCP) {
		int err = 0, n;
		socklen_t elen = sizeof(err);

		pfd.events = POLLOUT;
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0) {
			perror("probe: poll");
			goto out;
		}
		if (n == 0) {
			puts("dropped");
			rc = 0;
			goto out;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (!err && (pfd.revents & POLLERR))
			err = icmp_error(fd);
		if (err) {
			rc = report(err);
			goto out;
		}
		if (!(pfd.revents & POLLOUT)) {
			fputs("probe: woken without an answer\n", stderr);
			goto out;
		}
		puts("accepted");
		rc = 0;
	} else {
		char msg[64], buf[128];
		size_t mlen = make_datagram(kind, ss.ss_family, msg);
		ssize_t n;
		int k;

		if (send(fd, msg, mlen, 0) < 0) {
			rc = report(errno);
			goto out;
		}
		pfd.events = POLLIN;
		k = poll(&pfd, 1, timeout_ms);
		if (k < 0) {
			perror("probe: poll");
			goto out;
		}
		if (k == 0) {
			puts("dropped");
			rc = 0;
			goto out;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EAGAIN) {
			int err = icmp_error(fd);

			if (!err) {
				fputs("probe: woken without an answer\n", stderr);
				goto out;
			}
			errno = err;
		}
		if (n < 0) {
			rc = report(errno);
			goto out;
		}
		if (!is_answer(kind, ss.ss_family, msg, mlen, buf, n)) {
			fputs("probe: unexpected answer\n", stderr);
			goto out;
		}
		puts("accepted");
		rc = 0;
	}
out:
	close(fd);
	fflush(stdout);
	return rc;
}

struct listener {
	int fd;
	int tcp;
};

static int listen_on(struct listener *l, size_t *n, int tcp, int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (*n >= MAX_SOCKS) {
		fputs("probe: too many ports\n", stderr);
		return -1;
	}
	parse_addr(family == AF_INET ? "0.0.0.0" : "::", port, &ss, &len);
	fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("probe: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (tcp && listen(fd, 64) < 0)) {
		fprintf(stderr, "probe: %s port %d: %s\n", tcp ? "tcp" : "udp", port,
			strerror(errno));
		close(fd);
		return -1;
	}
	l[*n].fd = fd;
	l[*n].tcp = tcp;
	(*n)++;
	return 0;
}

/* Writes "ADDRESS PORT\n" of @from to connection @c (best effort). */
static void tell_peer(int c, const struct sockaddr_storage *from)
{
	char addr[INET6_ADDRSTRLEN], line[INET6_ADDRSTRLEN + 16];
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)from;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from;
	int n, port;

	if (from->ss_family == AF_INET) {
		inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
		port = ntohs(a4->sin_port);
	} else if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], addr, sizeof(addr));
		port = ntohs(a6->sin6_port);
	} else {
		inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
		port = ntohs(a6->sin6_port);
	}
	n = snprintf(line, sizeof(line), "%s %d\n", addr, port);
	if (write(c, line, (size_t)n) < 0)
		return;
}

static int serve(int argc, char **argv)
{
	static struct listener l[MAX_SOCKS];
	static struct pollfd pfd[MAX_SOCKS];
	const char *ready = NULL;
	size_t n = 0;
	int tcp = -1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			ready = argv[++i];
		} else if (strcmp(argv[i], "tcp") == 0) {
			tcp = 1;
		} else if (strcmp(argv[i], "udp") == 0) {
			tcp = 0;
		} else {
			int port = parse_port(argv[i]);

			if (tcp < 0)
				usage();
			if (listen_on(l, &n, tcp, AF_INET, port) < 0 ||
			    listen_on(l, &n, tcp, AF_INET6, port) < 0)
				return EXIT_SYS;
		}
	}
	if (n == 0)
		usage();
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0) {
			perror("probe: ready file");
			return EXIT_SYS;
		}
		close(fd);
	}
	for (size_t i = 0; i < n; i++) {
		pfd[i].fd = l[i].fd;
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("probe: poll");
			return EXIT_SYS;
		}
		for (size_t i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (l[i].tcp) {
				struct sockaddr_storage from;
				socklen_t flen = sizeof(from);
				int c = accept(l[i].fd, (struct sockaddr *)&from, &flen);

				if (c >= 0) {
					tell_peer(c, &from);
					close(c);
				}
			} else {
				struct sockaddr_storage from;
				socklen_t flen = sizeof(from);
				char buf[512];
				ssize_t k = recvfrom(l[i].fd, buf, sizeof(buf), 0,
						     (struct sockaddr *)&from, &flen);

				if (k >= 0)
					sendto(l[i].fd, buf, (size_t)k, 0,
					       (struct sockaddr *)&from, flen);
			}
		}
	}
}

/* `probe peer`: connects and prints what the listener says it saw. */
static int peer(const char *addr, int port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd pfd;
	char buf[128];
	size_t got = 0;
	int fd;

	if (parse_addr(addr, port, &ss, &len) < 0)
		usage();
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("probe: socket");
		return EXIT_SYS;
	}
	/* a blocking connect bounded by the receive timeout below */
	{
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;

		close(fd);
		if (e == EINPROGRESS || e == EAGAIN || e == ETIMEDOUT) {
			puts("dropped");
			return 0;
		}
		return report(e);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < sizeof(buf) - 1 && poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t k = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = 0;
	fputs(got ? buf : "nothing\n", stdout);
	return 0;
}

int main(int argc, char **argv)
{
	enum kind kind;

	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "peer") == 0)
		return peer(argv[2], parse_port(argv[3]), atoi(argv[4]));
	if (argc != 5 && argc != 6)
		usage();
	if (strcmp(argv[1], "tcp") == 0)
		kind = KIND_TCP;
	else if (strcmp(argv[1], "udp") == 0)
		kind = KIND_UDP;
	else if (strcmp(argv[1], "icmp") == 0)
		kind = KIND_ICMP;
	else
		usage();
	return probe(kind, argv[2], parse_port(argv[3]), atoi(argv[4]),
		     argc == 6 ? parse_port(argv[5]) : -1);
}
