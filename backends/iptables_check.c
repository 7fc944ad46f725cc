/* SPDX-License-Identifier: MIT */
/*
 * What iptables-restore can express (backends "iptables" and
 * "ip6tables"): which rules fall in the backend's family, and the checks
 * of chain names, comments, log prefixes, interfaces and limits, each an
 * error at the policy line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backends/iptables.h"
#include "backends/text.h"
#include "common/util.h"
#include "ir/names.h"

bool ipt_fam_v6(const struct ipt *t)
{
	return t->family == PC_FAM_IPV6;
}

/* The prefixes of @set in the backend's family; false when @set is not
 * empty but has none (the rule cannot match in this family). */
bool ipt_addr_range(const struct ipt *t, const struct pc_addr_set *set,
		    size_t *first, size_t *count)
{
	size_t i = 0, n = 0;

	*first = 0;
	*count = 0;
	if (set->n == 0)
		return true;
	while (i < set->n && set->v[i].family != t->family)
		i++;
	*first = i;
	while (i + n < set->n && set->v[i + n].family == t->family)
		n++;
	*count = n;
	return n > 0;
}

/* Whether an l4 alternative can match in the backend's family. */
bool ipt_l4_in_family(const struct ipt *t, const struct pc_l4 *l4)
{
	if (l4->proto == PC_PROTO_ICMP)
		return !ipt_fam_v6(t);
	if (l4->proto == PC_PROTO_ICMPV6)
		return ipt_fam_v6(t);
	return true;
}

/* Number of kernel rules one match alternative of @l4 takes (ports split
 * into multiport groups, ICMP types one rule each). */
static size_t l4_rules(const struct pc_l4 *l4)
{
	size_t n = 0, slots = 0;

	if (pc_proto_has_ports(l4->proto) && l4->dports.n > 1) {
		for (size_t i = 0; i < l4->dports.n; i++) {
			unsigned w = l4->dports.v[i].lo == l4->dports.v[i].hi ? 1 : 2;

			if (slots == 0 || slots + w > IPT_MULTIPORT_MAX) {
				n++;
				slots = 0;
			}
			slots += w;
		}
		return n;
	}
	if ((l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6) && l4->n_types)
		return l4->n_types;
	return 1;
}

/* The multiport rules the source ports of a rule take (issue 14). */
static size_t ipt_sport_chunks(const struct pc_port_set *ps)
{
	size_t n = ps->n ? 1 : 0;
	unsigned slots = 0;

	for (size_t i = 0; i < ps->n; i++) {
		unsigned w = ps->v[i].lo == ps->v[i].hi ? 1 : 2;

		if (slots + w > IPT_MULTIPORT_MAX) {
			n++;
			slots = 0;
		}
		slots += w;
	}
	return n ? n : 1;
}

bool ipt_rule_in_scope(const struct ipt *t, const struct pc_rule *r,
		       size_t *kernel_rules)
{
	size_t s0, sn, d0, dn, l4n = 0;

	if (!(r->families & t->family))
		return false;
	/* a negated list without a prefix of this family holds none of its
	 * packets: the rule matches them all (issue 14) */
	if ((!ipt_addr_range(t, &r->saddr, &s0, &sn) && !r->saddr_not) ||
	    (!ipt_addr_range(t, &r->daddr, &d0, &dn) && !r->daddr_not))
		return false;
	/* a negation is one `! -s` or a sub-chain of its own (iptables.c) */
	if (r->saddr_not)
		sn = 1;
	if (r->daddr_not)
		dn = 1;
	if (r->n_l4) {
		for (size_t i = 0; i < r->n_l4; i++)
			if (ipt_l4_in_family(t, &r->l4[i]))
				l4n += l4_rules(&r->l4[i]);
		if (!l4n)
			return false;
	} else {
		l4n = 1;
	}
	if (kernel_rules)
		*kernel_rules = (sn ? sn : 1) * (dn ? dn : 1) * l4n * ipt_sport_chunks(&r->sports) *
				(r->n_ifaces > 1 ? r->n_ifaces : 1) *
				(r->n_oifaces ? r->n_oifaces : 1);
	return true;
}

/* An error at @loc, counted in t->errors (what the backend cannot express). */
#define report(t, loc, ...) pc_text_error((t)->diag, &(t)->errors, loc, __VA_ARGS__)

/* The text of -m comment for a rule: "FILE:LINE[ built-in what][ comment]". */
void ipt_rule_comment(struct pc_buf *b, enum pc_direction dir,
		      const struct pc_rule *r)
{
	pc_text_rule_origin(b, dir, r);
	if (r->comment) {
		pc_buf_puts(b, " ");
		pc_buf_puts(b, r->comment);
	}
}

/* Checks the strings and names one rule puts into the output. */
static void check_rule(struct ipt *t, enum pc_direction dir,
		       const struct pc_rule *r)
{
	struct pc_buf *c = &t->scratch;

	ipt_buf_reset(c);
	ipt_rule_comment(c, dir, r);
	if (!pc_text_printable(c->data))
		report(t, &r->loc, "backend '%s': the comment has control characters", t->name);
	else if (c->len > IPT_COMMENT_MAX)
		report(t, &r->loc,
		       "backend '%s': the rule's comment with its location is %zu bytes, iptables allows %d",
		       t->name, c->len, IPT_COMMENT_MAX);
	if (r->log && r->log_prefix) {
		if (!pc_text_printable(r->log_prefix))
			report(t, &r->loc, "backend '%s': the log prefix has control characters", t->name);
		else if (strlen(r->log_prefix) > IPT_LOG_PREFIX_MAX)
			report(t, &r->loc,
			       "backend '%s': log prefix \"%s\" is %zu bytes, iptables allows %d",
			       t->name, r->log_prefix, strlen(r->log_prefix), IPT_LOG_PREFIX_MAX);
	}
	if (r->iface && !pc_iface_name_valid(r->iface))
		report(t, &r->loc, "backend '%s': invalid interface name '%s'", t->name, r->iface);
	for (size_t i = 0; i < r->n_ifaces; i++)
		if (!pc_iface_name_valid(r->ifaces[i]))
			report(t, &r->loc, "backend '%s': invalid interface name '%s'",
			       t->name, r->ifaces[i]);
	for (size_t i = 0; i < r->n_oifaces; i++)
		if (!pc_iface_name_valid(r->oifaces[i]))
			report(t, &r->loc, "backend '%s': invalid interface name '%s'",
			       t->name, r->oifaces[i]);
	if (r->limit.rate && r->limit_per_source) {
		/* checked by check_hashlimit() */
	} else if (r->limit.rate) {
		static const unsigned mult[__PC_LIMIT_MAX] = { 1, 60, 3600, 86400 };

		uint64_t avg = (uint64_t)IPT_LIMIT_SCALE * mult[r->limit.unit] / r->limit.rate;

		if ((uint64_t)r->limit.rate > (uint64_t)IPT_LIMIT_SCALE * mult[r->limit.unit])
			report(t, &r->loc,
			       "backend '%s': rate %u/%s is faster than iptables' limit match allows (10000/second)",
			       t->name, r->limit.rate, pc_limit_unit_name(r->limit.unit));
		/*
		 * xt_limit (legacy iptables) keeps avg * burst as 32-bit
		 * credits of HZ * CREDITS_PER_JIFFY (at most 38400) per
		 * 1/XT_LIMIT_SCALE second: slower rates overflow and let one
		 * packet through instead of the burst.
		 */
		else if (avg * IPT_LIMIT_BURST / IPT_LIMIT_SCALE * 38400u > UINT32_MAX)
			report(t, &r->loc,
			       "backend '%s': rate %u/%s is slower than the kernel's limit match handles (at least 4/day)",
			       t->name, r->limit.rate, pc_limit_unit_name(r->limit.unit));
	}
}

/*
 * The kernel shares a hashlimit's table between the rules that name it
 * and keeps the rate it was made with: a reload that changed the rate
 * would go on with the old one. So the name is "pc" and 13 hex digits of
 * a hash of everything that shapes the table (table, chain, rule, rate,
 * burst): a changed rule gets a table of its own.
 */
bool ipt_hashlimit_name(const struct ipt *t, enum pc_direction dir, size_t idx,
			char *buf, size_t len)
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	char key[512];
	int n = snprintf(key, sizeof(key), "%s %d %zu %u %d %u", t->ir->table, (int)dir, idx,
			 t->ir->chains[dir].rules[idx].limit.rate,
			 (int)t->ir->chains[dir].rules[idx].limit.unit,
			 (unsigned)t->ir->chains[dir].rules[idx].limit_burst);

	for (int i = 0; i < n && i < (int)sizeof(key); i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ull;
	}
	n = snprintf(buf, len, "pc%013llx", (unsigned long long)(h & 0xfffffffffffffull));
	return n > 0 && (size_t)n < len && n <= IPT_HASHLIMIT_NAME_MAX;
}

uint64_t ipt_refill_seconds(const struct pc_rule *r)
{
	static const uint64_t mult[__PC_LIMIT_MAX] = { 1, 60, 3600, 86400 };
	uint64_t burst = r->limit_burst ? r->limit_burst : IPT_LIMIT_BURST;

	return (burst * mult[r->limit.unit] + r->limit.rate - 1) / r->limit.rate;
}

/*
 * matches (issue 14): what a per-source limit (-m hashlimit) cannot be.
 * xt_hashlimit keeps a bucket as avg * burst credits of about 2^64 / one
 * day in microseconds each: a bucket that takes longer than a day to
 * refill overflows, and the kernel refuses the rule (or, past the wrap,
 * takes a wrong one).
 */
static void check_hashlimit(struct ipt *t, const struct pc_rule *r)
{
	if (ipt_refill_seconds(r) > 86400)
		report(t, &r->loc,
		       "backend '%s' cannot express this per-source limit: a bucket of %u packets at %u/%s takes %llu seconds to refill, hashlimit's at most a day",
		       t->name, r->limit_burst ? r->limit_burst : IPT_LIMIT_BURST,
		       r->limit.rate, pc_limit_unit_name(r->limit.unit),
		       (unsigned long long)ipt_refill_seconds(r));
}

static void check_table(struct ipt *t)
{
	struct pc_location loc = { .file = t->ir->policy_file };
	const char *table = t->ir->table;
	size_t need = strlen(table) + strlen("-fwd");

	/* helper chains (rules with a limit) are named TABLE-d<index>v, those
	 * of a negated group (issue 14) TABLE-d<index>n */
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *c = &t->ir->chains[d];

		for (size_t i = 0; i < c->n; i++) {
			size_t len;

			if (!c->rules[i].limit.rate && !c->rules[i].saddr_not &&
			    !c->rules[i].daddr_not)
				continue;
			len = strlen(table) + 3 + (size_t)snprintf(NULL, 0, "%zu", i + 1);
			if (len > need)
				need = len;
		}
	}
	if (!pc_text_valid_name(table))
		report(t, &loc, "backend '%s': table name '%s' is not a valid chain name",
		       t->name, table);
	else if (need > IPT_CHAIN_MAX)
		report(t, &loc,
		       "backend '%s': table name '%s' is too long for iptables chain names (chain names of this policy reach %zu bytes, at most %d)",
		       t->name, table, need, IPT_CHAIN_MAX);
}

void ipt_run_checks(struct ipt *t)
{
	check_table(t);
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *c = &t->ir->chains[d];

		for (size_t i = 0; i < c->n; i++) {
			const struct pc_rule *r = &c->rules[i];

			if (!ipt_rule_in_scope(t, r, NULL))
				continue;
			check_rule(t, (enum pc_direction)d, r);
			if (r->limit.rate && r->limit_per_source)
				check_hashlimit(t, r);
		}
	}
}
