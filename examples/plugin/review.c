/* SPDX-License-Identifier: MIT */
/*
 * An external portcullis backend: a Markdown review report of a policy,
 * for pull requests - what is open, to whom, from which policy line.
 *
 * Built against the public headers only (pkg-config portcullis):
 *   cc -shared -fPIC $(pkg-config --cflags portcullis) review.c -o review.so
 * and used with
 *   PORTCULLIS_PLUGIN_PATH=DIR portcullis generate -b review POLICY
 * or installed into $(pkg-config --variable=plugindir portcullis).
 *
 * It keeps the compatibility promise of backend.h: rules and protocol
 * alternatives are reached with pc_ir_rule() and pc_ir_l4() (never
 * c->rules[i]), so a program whose IR structs grew at their end still
 * runs it. `-O title=TEXT` shows a backend option.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <portcullis/backend.h>

static const char *const dir_title[__PC_DIR_MAX] = {
	[PC_DIR_IN] = "Inbound (to this host)",
	[PC_DIR_OUT] = "Outbound (from this host)",
	[PC_DIR_FORWARD] = "Forwarded (through this host)",
};
static const char *const verdict_name[__PC_VERDICT_MAX] = {
	[PC_VERDICT_ALLOW] = "allow",
	[PC_VERDICT_DENY] = "deny",
	[PC_VERDICT_REJECT] = "reject",
};
static const char *const unit_name[__PC_LIMIT_MAX] = {
	[PC_LIMIT_SECOND] = "second",
	[PC_LIMIT_MINUTE] = "minute",
	[PC_LIMIT_HOUR] = "hour",
	[PC_LIMIT_DAY] = "day",
};

/* Text in a table cell: '|' and Markdown's inline markup escaped, control
 * characters dropped, so a policy string stays inside its cell. */
static void cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			continue;
		if (strchr("|\\`*_[]<>#", c))
			fputc('\\', out);
		fputc(c, out);
	}
}

static void proto_name(FILE *out, unsigned proto)
{
	switch (proto) {
	case PC_PROTO_TCP: fputs("tcp", out); break;
	case PC_PROTO_UDP: fputs("udp", out); break;
	case PC_PROTO_SCTP: fputs("sctp", out); break;
	case PC_PROTO_DCCP: fputs("dccp", out); break;
	case PC_PROTO_ICMP: fputs("icmp", out); break;
	case PC_PROTO_ICMPV6: fputs("icmpv6", out); break;
	default: fprintf(out, "proto %u", proto); break;
	}
}

static void what(FILE *out, const struct pc_ir *ir, const struct pc_rule *r)
{
	if (r->n_l4 == 0)
		fputs("any protocol", out);
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l4 = pc_ir_l4(ir, r, i);

		if (i)
			fputs("; ", out);
		proto_name(out, l4->proto);
		if (l4->dports.n) {
			fputs(" ", out);
			for (size_t k = 0; k < l4->dports.n; k++) {
				const struct pc_port_range *p = &l4->dports.v[k];

				fprintf(out, k ? ", %u" : "%u", p->lo);
				if (p->hi != p->lo)
					fprintf(out, "-%u", p->hi);
			}
		} else if (pc_proto_has_ports(l4->proto)) {
			fputs(" (all ports)", out);
		}
		if (l4->n_types) {
			fputs(" type ", out);
			for (size_t k = 0; k < l4->n_types; k++)
				fprintf(out, k ? ", %u" : "%u", l4->types[k]);
		}
	}
}

static void addrs(FILE *out, const struct pc_addr_set *set)
{
	if (set->n == 0) {
		fputs("anyone", out);
		return;
	}
	if (set->name) {
		fputs("$", out);
		cell(out, set->name);
		fputs(": ", out);
	}
	for (size_t i = 0; i < set->n; i++) {
		char s[INET6_ADDRSTRLEN];
		const struct pc_addr *a = &set->v[i];

		inet_ntop(a->family == PC_FAM_IPV6 ? AF_INET6 : AF_INET, a->a, s, sizeof(s));
		fprintf(out, "%s%s/%u", i ? ", " : "", s, a->plen);
	}
}

static void where(FILE *out, const struct pc_location *loc)
{
	if (!loc->file) {
		fputs("built-in", out);
		return;
	}
	cell(out, loc->file);
	if (loc->line)
		fprintf(out, ":%u", loc->line);
}

static const char *origin_note(enum pc_rule_origin o)
{
	switch (o) {
	case PC_ORIGIN_CONNTRACK: return "Built-in: connection tracking";
	case PC_ORIGIN_LOOPBACK: return "Built-in: loopback";
	case PC_ORIGIN_ESSENTIAL_ICMP: return "Built-in: essential ICMP";
	case PC_ORIGIN_DEFAULT: return "The default";
	default: return NULL;
	}
}

static void row(FILE *out, const struct pc_ir *ir, const struct pc_rule *r)
{
	const char *note = origin_note(r->origin);

	fputs("| ", out);
	where(out, &r->loc);
	fprintf(out, " | %s | ", verdict_name[r->verdict]);
	what(out, ir, r);
	fputs(" | ", out);
	addrs(out, &r->saddr);
	fputs(" | ", out);
	addrs(out, &r->daddr);
	fputs(" | ", out);
	if (r->iface)
		cell(out, r->iface);
	fputs(" |", out);
	if (r->families != PC_FAM_ALL)
		fputs(r->families == PC_FAM_IPV4 ? " IPv4 only." : " IPv6 only.", out);
	if (r->ct_state)
		fputs(" By connection state.", out);
	if (r->limit.rate)
		fprintf(out, " At most %u/%s.", r->limit.rate, unit_name[r->limit.unit]);
	if (r->log)
		fputs(" Logged.", out);
	if (note)
		fprintf(out, " %s.", note);
	if (r->comment) {
		fputs(" \"", out);
		cell(out, r->comment);
		fputs("\"", out);
	}
	fputs(" |\n", out);
}

static int review_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		       FILE *out, struct pc_diag *diag)
{
	static const enum pc_direction order[] = { PC_DIR_IN, PC_DIR_FORWARD, PC_DIR_OUT };
	const char *title = pc_emit_option(opts, "title");
	size_t open = 0;

	fputs("# ", out);
	cell(out, title ? title : "Firewall review");
	fputs(": table `", out);
	cell(out, ir->table);
	fputs("`\n\n", out);
	fputs("Policy `", out);
	cell(out, opts->policy_path ? opts->policy_path : ir->policy_file);
	fprintf(out, "`, generated by portcullis %s with registry `", opts->version);
	cell(out, opts->registry_name ? opts->registry_name : "");
	fprintf(out, "` (%s). Rules are listed in evaluation order: the first match decides.\n",
		opts->registry_date && *opts->registry_date ? opts->registry_date : "undated");
	for (size_t d = 0; d < sizeof(order) / sizeof(order[0]); d++) {
		const struct pc_chain *c = &ir->chains[order[d]];

		fprintf(out, "\n## %s\n\n", dir_title[order[d]]);
		fprintf(out, "Default: **%s** (", verdict_name[c->policy]);
		where(out, &c->policy_loc);
		fputs(").\n\n", out);
		fputs("| Line | Verdict | What | From | To | Interface | Notes |\n", out);
		fputs("|---|---|---|---|---|---|---|\n", out);
		for (size_t i = 0; i < c->n; i++) {
			const struct pc_rule *r = pc_ir_rule(ir, c, i);

			row(out, ir, r);
			if (r->origin == PC_ORIGIN_POLICY && r->verdict == PC_VERDICT_ALLOW)
				open++;
		}
	}
	fprintf(out, "\n%zu policy rule%s allow traffic.\n", open, open == 1 ? "" : "s");
	(void)diag;
	return ferror(out) ? -1 : 0;
}

static const struct pc_backend_option review_options[] = {
	{ "title", NULL, "the report's title (default: Firewall review)" },
	{ NULL, NULL, NULL },
};

const struct pc_backend portcullis_backend = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "review",
	.summary = "Markdown review report: what is open, to whom, from which policy line",
	.caps = PC_CAP_ALL,
	.families = PC_FAM_ALL,
	.emit = review_emit,
	.options = review_options,
};
