/* SPDX-License-Identifier: MIT */
/*
 * CPU time per 64-byte UDP packet sent to 127.0.0.1:PORT (issue 15,
 * bench_packet_cpu.sh): the packet's whole way through the kernel, the
 * input hook's ruleset included, in this process's system time. A socket
 * is bound to the port and never read, so that no ICMP error is made; a
 * full receive queue drops the packet after the input hook. Best of 5
 * rounds of N packets, in nanoseconds. The CPU time of one process is
 * disturbed much less by other load than a packet rate (bench/README.md).
 *
 *   packet_cpu PORT [N]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

static double cpu_seconds(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
	       (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 5201;
	long n = argc > 2 ? atol(argv[2]) : 200000;
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char payload[64] = { 0 };
	struct iovec io = { payload, sizeof(payload) };
	struct mmsghdr m[64];
	int rcvbuf = 4096;
	double best = 1e9;

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&to, sizeof(to)) != 0) {
		perror("packet_cpu: socket");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
		m[i].msg_hdr.msg_iov = &io;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (int i = 0; i < 2000; i++)   /* warm up */
		sendmmsg(tx, m, 64, 0);
	for (int round = 0; round < 5; round++) {
		double t0 = cpu_seconds(), ns;

		for (long i = 0; i < n / 64; i++)
			if (sendmmsg(tx, m, 64, 0) < 0) {
				perror("packet_cpu: sendmmsg");
				return 1;
			}
		ns = (cpu_seconds() - t0) / (double)(n / 64 * 64) * 1e9;
		if (ns < best)
			best = ns;
	}
	printf("%.0f\n", best);
	return 0;
}
