/* SPDX-License-Identifier: MIT */
/* portcullis explain: which line of a policy decides a packet. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ir/eval.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static const char explain_usage[] =
	"usage: portcullis explain [--registry FILE] [--overlay FILE]... POLICY PACKET...\n"
	"\n"
	"Evaluates each PACKET against the resolved POLICY (the reference meaning\n"
	"every backend's output must have) and prints, one line per packet,\n"
	"\n"
	"  VERDICT<TAB>DECIDED-BY<TAB>PACKET\n"
	"\n"
	"VERDICT is allow, deny or reject. DECIDED-BY is FILE:LINE of the policy\n"
	"rule, 'default (FILE:LINE)' or 'default' for the direction's default,\n"
	"or 'built-in: connection tracking', 'built-in: loopback' or\n"
	"'built-in: essential ICMP'. PACKET is repeated in canonical form.\n"
	"\n"
	"PACKET (one argument, quoted; '-' reads packets from standard input,\n"
	"one per line, '#' comments and blank lines skipped):\n"
	"\n"
	"  DIRECTION [on IFACE] PROTO SRC[:PORT] -> DST[:PORT] [type ICMPTYPE]\n"
	"            [on IFACE] [state new|established|related|invalid]\n"
	"\n"
	"  DIRECTION  in, out or forward\n"
	"  IFACE      input interface (in, forward) or output interface (out);\n"
	"             without it, rules with 'on IFACE' do not match, except\n"
	"             that loopback addresses (127.0.0.0/8, ::1) imply 'on lo'\n"
	"  PROTO      tcp, udp, sctp, dccp, icmp (IPv4), icmpv6 (IPv6), another\n"
	"             protocol name (esp, gre, ...) or a number 0-255\n"
	"  SRC        an IPv4 or IPv6 address (IPv6 may be in brackets); for\n"
	"             tcp, udp, sctp and dccp also SRC:PORT ([IPv6]:PORT), the\n"
	"             source port: without it, rules with source-port do not match\n"
	"  DST:PORT   for tcp, udp, sctp and dccp: 198.51.100.1:22 or\n"
	"             [2001:db8::1]:443; other protocols take no port\n"
	"  ICMPTYPE   icmp/icmpv6 only: a name as nftables spells it\n"
	"             (echo-request, destination-unreachable, nd-neighbor-solicit,\n"
	"             ...) or a number 0-255; without it, only rules that\n"
	"             match every ICMP type can match\n"
	"  state      the connection tracking state, default new\n"
	"\n"
	"Examples:\n"
	"  portcullis explain web.policy 'in tcp 192.0.2.5 -> 198.51.100.1:22'\n"
	"  portcullis explain web.policy 'in on eth0 udp 2001:db8::5 -> [2001:db8::1]:53'\n"
	"  portcullis explain web.policy 'in icmp 192.0.2.5 -> 198.51.100.1 type echo-request'\n"
	"  portcullis explain web.policy 'out tcp 198.51.100.1 -> 192.0.2.5:40000 state established'\n"
	"\n"
	"Rate limits count as not exceeded; when a rate-limited rule decides, the\n"
	"decider column adds what decides over its rate (per source address for\n"
	"'limit ... per source').\n"
	"\n"
	"Dynamic sets (hosts NAME = dynamic) are filled at run time: the verdict\n"
	"is for addresses in none of them, and for each set an earlier rule uses\n"
	"that would change it, the decider column adds\n"
	"'(if ADDR is in @NAME: VERDICT by DECIDER)', one set at a time.\n"
	"\n"
	"Options:\n"
	"  --registry FILE  registry to resolve service names with (IANA CSV or\n"
	"                   /etc/services format) instead of the installed one\n"
	"  --overlay FILE   site services that take precedence (repeatable)\n"
	"  -h, --help       this text\n"
	"\n"
	"A packet a dnat translates is judged as the translated, forwarded packet.\n"
	"Where the verdict then depends on an interface the packet does not name\n"
	"(the dnat's 'on IFACE', or where the translated packet leaves: the policy\n"
	"does not state routes), explain prints no verdict for it but, on\n"
	"standard error, what each interface would give, and asks for it:\n"
	"  'in on wan0 out on lan0 tcp 203.0.113.9 -> 192.0.2.1:8080'\n"
	"\n"
	"Exit status: 0 every packet evaluated; 1 policy errors; 2 usage error\n"
	"(a malformed PACKET, or one that must name its interface); 3 system error.\n";

static void print_decider(const struct pc_ir *ir, const struct pc_packet *p,
			  long idx);

/*
 * sets (issue 14): what a dynamic set's members would get. The verdict
 * printed is for a packet whose addresses are in no dynamic set (what the
 * sets hold is known only to the kernel); for each set an earlier rule
 * than the decider matches on, the source or destination address taken
 * to be in it may change the decision: " (if ADDR is in @SET: VERDICT by
 * DECIDER)" says so, one set at a time, in the order of the rules.
 */
static void print_members(const struct pc_ir *ir, const struct pc_packet *p,
			  long idx, enum pc_verdict v)
{
	const struct pc_chain *c = &ir->chains[p->dir];
	size_t end = idx >= 0 ? (size_t)idx : c->n;

	for (size_t i = 0; i < end; i++) {
		for (int side = 0; side < 2; side++) {
			const struct pc_addr_set *s = side ? &c->rules[i].daddr : &c->rules[i].saddr;
			struct pc_packet q = *p;
			enum pc_verdict w;
			long k;
			bool seen = false;
			char addr[INET6_ADDRSTRLEN];

			if (!pc_addr_set_is_dynamic(s))
				continue;
			/* each (set, side) once: its first rule asks it */
			for (size_t j = 0; j < i && !seen; j++) {
				const struct pc_addr_set *e = side ? &c->rules[j].daddr :
								     &c->rules[j].saddr;

				seen = pc_addr_set_is_dynamic(e) && strcmp(e->name, s->name) == 0;
			}
			if (seen)
				continue;
			if (side)
				q.dst_member = s->name;
			else
				q.src_member = s->name;
			k = pc_ir_eval(ir, &q, &w);
			if (k == idx && w == v)
				continue;
			inet_ntop(p->family == PC_FAM_IPV4 ? AF_INET : AF_INET6,
				  side ? p->daddr : p->saddr, addr, sizeof(addr));
			printf(" (if %s is in @%s: %s by ", addr, s->name, pc_verdict_name(w));
			print_decider(ir, &q, k);
			putchar(')');
		}
	}
}

/* One packet to explain, with what parsing it needs to keep. */
struct explain_item {
	struct pc_packet pkt;
	char iface[16];
	bool own_iface;    /* pkt.iface points to @iface (re-pointed after growth) */
};

static void print_bad_packet(const char *where, const char *text,
			     const struct pc_packet_error *err)
{
	fprintf(stderr, "portcullis: explain: %s: bad packet: %s\n", where, err->msg);
	fprintf(stderr, "  %s\n  ", text);
	for (size_t i = 0; i < err->col; i++)
		fputc(text[i] == '\t' ? '\t' : ' ', stderr);
	fputc('^', stderr);
	for (size_t i = 1; i < err->len; i++)
		fputc('~', stderr);
	fputc('\n', stderr);
}

static int add_packet(struct explain_item **items, size_t *n, size_t *cap,
		      const char *where, const char *text)
{
	struct pc_packet_error err;
	struct explain_item *it;

	*items = xgrow(*items, cap, *n + 1, sizeof(**items));
	it = &(*items)[*n];
	if (pc_packet_parse(text, &it->pkt, it->iface, &err) < 0) {
		print_bad_packet(where, text, &err);
		return -1;
	}
	it->own_iface = it->pkt.iface == it->iface;
	(*n)++;
	return 0;
}

/* Reads packets from stdin; returns the number of bad lines, or -1 on a read error. */
static int read_packets(struct explain_item **items, size_t *n, size_t *cap)
{
	char *line = NULL;
	size_t len = 0;
	unsigned lineno = 0;
	int bad = 0;

	while (getline(&line, &len, stdin) >= 0) {
		char where[32], *s = line, *e;

		lineno++;
		e = s + strcspn(s, "\r\n");
		*e = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == 0 || *s == '#')
			continue;
		snprintf(where, sizeof(where), "<stdin>:%u", lineno);
		if (add_packet(items, n, cap, where, s) < 0 && ++bad == PC_DIAG_MAX_ERRORS) {
			fprintf(stderr, "portcullis: explain: too many bad packets, giving up\n");
			break;
		}
	}
	free(line);
	if (ferror(stdin)) {
		perror("portcullis: explain: standard input");
		return -1;
	}
	return bad;
}

/* The "decided by" column. */
static void print_decider_to(FILE *out, const struct pc_ir *ir,
			     const struct pc_packet *p, long idx)
{
	const struct pc_chain *c = &ir->chains[p->dir];
	const struct pc_location *loc;

	if (idx < 0) {
		loc = &c->policy_loc;
		if (loc->file && loc->line)
			fprintf(out, "default (%s:%u)", loc->file, loc->line);
		else
			fputs("default", out);
		return;
	}
	loc = &c->rules[idx].loc;
	if (c->rules[idx].n_map) {
		/* A verdict map of the optimiser: its element knows the line. */
		const struct pc_map_elem *e = pc_map_lookup(&c->rules[idx], p);

		if (e)
			loc = pc_map_elem_loc(e);
	}
	switch (c->rules[idx].origin) {
	case PC_ORIGIN_POLICY:
		if (loc->file && loc->line)
			fprintf(out, "%s:%u", loc->file, loc->line);
		else
			fputs("policy rule", out);
		break;
	case PC_ORIGIN_DEFAULT:
		if (loc->file && loc->line)
			fprintf(out, "default (%s:%u)", loc->file, loc->line);
		else
			fputs("default", out);
		break;
	case PC_ORIGIN_CONNTRACK:
	case PC_ORIGIN_LOOPBACK:
	case PC_ORIGIN_ESSENTIAL_ICMP:
		fprintf(out, "built-in: %s", pc_origin_name(c->rules[idx].origin));
		break;
	default:
		PC_BUG("rule origin %d", (int)c->rules[idx].origin);
	}
}

static void print_decider(const struct pc_ir *ir, const struct pc_packet *p, long idx)
{
	print_decider_to(stdout, ir, p, idx);
}

/*
 * A dnat (issue 13) can hinge on an interface the packet does not name:
 * the dnat's own `on`, and, for the forwarded packet it makes, the
 * interface it leaves by, which the policy does not state (routing
 * does). explain does not pick one then: it says what each would give
 * and asks for the interface; the caller prints no verdict line.
 */

/* Whether @p, naming no interface, would be translated if it named a dnat's. */
static bool ask_in_iface(const struct pc_ir *ir, const char *text, const struct pc_packet *p)
{
	struct pc_packet q, t;
	bool asked = false;

	if (p->iface)
		return false;
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		size_t ni = n->n_ifaces > 1 ? n->n_ifaces : n->iface ? 1 : 0;

		if (n->kind != PC_NAT_DNAT)
			continue;
		for (size_t k = 0; k < ni; k++) {
			q = *p;
			q.iface = ni > 1 ? n->ifaces[k] : n->iface;
			if (pc_ir_dnat(ir, &q, &t) != (long)i)
				continue;
			if (!asked)
				fprintf(stderr, "portcullis: explain: '%s': it names no interface, and a dnat translates it when it comes in by one; name it with 'on IFACE':\n",
					text);
			asked = true;
			fprintf(stderr, "  on %s: dnat %s:%u translates it\n", q.iface,
				n->loc.file, n->loc.line);
		}
	}
	return asked;
}

/* Whether forwarded packet @p (naming no out interface) is decided by where it leaves. */
static bool ask_out_iface(const struct pc_ir *ir, const char *text, const struct pc_packet *p,
			  long dnat)
{
	const struct pc_chain *c = &ir->chains[PC_DIR_FORWARD];
	const struct pc_nat_rule *n = &ir->nat[dnat];
	enum pc_verdict v0, v;
	long i0, i;
	struct pc_packet q;
	bool differs = false;

	if (p->oiface[0])
		return false;
	i0 = pc_ir_eval(ir, p, &v0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < c->n; r++) {
			for (size_t k = 0; k < c->rules[r].n_oifaces; k++) {
				const char *o = c->rules[r].oifaces[k];
				bool seen = false;

				/* each interface once, in the order the policy names them */
				for (size_t r2 = 0; r2 <= r && !seen; r2++)
					for (size_t k2 = 0; k2 < c->rules[r2].n_oifaces &&
					     (r2 < r || k2 < k); k2++)
						if (strcmp(c->rules[r2].oifaces[k2], o) == 0)
							seen = true;
				if (seen)
					continue;
				q = *p;
				snprintf(q.oiface, sizeof(q.oiface), "%s", o);
				i = pc_ir_eval(ir, &q, &v);
				if (pass == 0) {
					differs |= i != i0 || v != v0;
					continue;
				}
				fprintf(stderr, "  out on %s: %s by ", o, pc_verdict_name(v));
				print_decider_to(stderr, ir, &q, i);
				fputc('\n', stderr);
			}
		}
		if (!differs)
			return false;
		if (pass == 0)
			fprintf(stderr, "portcullis: explain: '%s': dnat %s:%u makes it a forwarded packet, whose verdict depends on the interface it leaves by, which the policy does not state (routing does); name it with 'out on IFACE':\n",
				text, n->loc.file, n->loc.line);
	}
	fprintf(stderr, "  out on another interface: %s by ", pc_verdict_name(v0));
	print_decider_to(stderr, ir, p, i0);
	fputc('\n', stderr);
	return true;
}

/* "\tKIND FILE:LINE" of the NAT rule @i: a further column (routers). */
static void print_nat(const struct pc_ir *ir, long i)
{
	const struct pc_nat_rule *n = &ir->nat[i];

	printf("\t%s %s:%u", pc_nat_kind_name(n->kind), n->loc.file, n->loc.line);
}

/* The source translation of an allowed packet leaving the host, if any. */
static void print_snat(const struct pc_ir *ir, const struct pc_packet *p)
{
	long i = pc_ir_snat(ir, p);
	char addr[INET6_ADDRSTRLEN];
	const struct pc_nat_rule *n;

	if (i < 0)
		return;
	n = &ir->nat[i];
	print_nat(ir, i);
	if (n->kind == PC_NAT_MASQUERADE) {
		const char *out = p->dir == PC_DIR_FORWARD ? p->oiface : p->iface;

		printf(": source becomes the address of %s", out && out[0] ? out : "the leaving interface");
		return;
	}
	inet_ntop(n->to.family == PC_FAM_IPV4 ? AF_INET : AF_INET6, n->to.a, addr, sizeof(addr));
	printf(": source becomes %s", addr);
}

int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "registry", required_argument, NULL, 'R' },
		{ "overlay", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro = { 0 };
	struct explain_item *items = NULL;
	size_t n = 0, cap = 0;
	struct pc_registry *reg = NULL;
	struct pc_diag *diag = NULL;
	struct pc_ir *ir = NULL;
	const char *policy;
	bool stdin_used = false;
	int c, status = PC_EXIT_USAGE, bad = 0, asked = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			ro.registry = optarg;
			break;
		case 'O':
			if (!pc_cli_add_overlay(&ro, optarg, "explain"))
				goto out;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			status = PC_EXIT_OK;
			goto out;
		default:
			if (optopt)
				fprintf(stderr, "portcullis: explain: option -%c: unknown or missing its argument\n",
					optopt);
			else
				fprintf(stderr, "portcullis: explain: unknown option '%s' or missing argument\n",
					argv[optind - 1]);
			fputs(explain_usage, stderr);
			goto out;
		}
	}
	if (argc - optind < 2) {
		fputs("portcullis: explain: expected a POLICY and at least one PACKET\n", stderr);
		fputs(explain_usage, stderr);
		goto out;
	}
	policy = argv[optind];
	for (int i = optind + 1; i < argc; i++) {
		char where[32];

		if (strcmp(argv[i], "-") == 0) {
			int r;

			if (stdin_used) {
				fputs("portcullis: explain: '-' given twice\n", stderr);
				goto out;
			}
			stdin_used = true;
			r = read_packets(&items, &n, &cap);
			if (r < 0) {
				status = PC_EXIT_SYSTEM;
				goto out;
			}
			bad += r;
			continue;
		}
		snprintf(where, sizeof(where), "argument %d", i - optind);
		if (add_packet(&items, &n, &cap, where, argv[i]) < 0)
			bad++;
	}
	if (bad)
		goto out;

	diag = pc_diag_create();
	/* the verdict, not the lint: explain's warnings would be noise */
	ir = pc_cli_load("explain", policy, &ro, PC_POLICY_NO_LINT, diag, &reg, &status);
	pc_diag_print(diag, stderr, pc_cli_color());
	if (!ir)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pc_packet *p = &items[i].pkt;
		enum pc_verdict v;
		long idx;
		char text[160];

		struct pc_packet translated;
		const struct pc_packet *judged = p;
		long dnat;

		if (items[i].own_iface)
			p->iface = items[i].iface;
		pc_packet_format(p, text, sizeof(text));
		/* dnat first: the filter decides on the translated packet */
		dnat = pc_ir_dnat(ir, p, &translated);
		if (dnat >= 0)
			judged = &translated;
		if ((dnat < 0 && ask_in_iface(ir, text, p)) ||
		    (dnat >= 0 && ask_out_iface(ir, text, judged, dnat))) {
			asked++;
			continue;
		}
		idx = pc_ir_eval(ir, judged, &v);

		printf("%s\t", pc_verdict_name(v));
		print_decider(ir, judged, idx);
		/* a rate-limited rule decides only under its rate: say what
		 * decides over it (issue 14) */
		if (idx >= 0 && ir->chains[judged->dir].rules[idx].limit.rate) {
			const struct pc_rule *r = &ir->chains[judged->dir].rules[idx];
			enum pc_verdict over;
			long next = pc_ir_eval_from(ir, judged, (size_t)idx + 1, &over);

			printf(" (under %u/%s%s; over it: %s by ", r->limit.rate,
			       pc_limit_unit_name(r->limit.unit),
			       r->limit_per_source ? " per source" : "", pc_verdict_name(over));
			print_decider(ir, judged, next);
			putchar(')');
		}
		print_members(ir, judged, idx, v);
		printf("\t%s", text);
		if (dnat >= 0) {
			pc_packet_format(judged, text, sizeof(text));
			print_nat(ir, dnat);
			printf(": %s", text);
		}
		if (v == PC_VERDICT_ALLOW)
			print_snat(ir, judged);
		putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("portcullis: explain: standard output");
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	status = asked ? PC_EXIT_USAGE : PC_EXIT_OK;
out:
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	free(items);
	return status;
}
