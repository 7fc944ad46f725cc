/* SPDX-License-Identifier: MIT */
/*
 * What the iptables backend's files share (internal): the limits of
 * iptables-restore, the emitter's state, and the checks of
 * iptables_check.c that iptables.c calls.
 */
#ifndef PC_BACKENDS_IPTABLES_H
#define PC_BACKENDS_IPTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "backends/text.h"
#include "common/util.h"


/* XT_EXTENSION_MAXNAMELEN - 1 */
#define IPT_CHAIN_MAX 28
/* XT_MAX_COMMENT_LEN - 1 */
#define IPT_COMMENT_MAX 255
/* sizeof(struct xt_log_info.prefix) - 1 */
#define IPT_LOG_PREFIX_MAX 29
/* XT_MULTI_PORTS; a range takes two slots */
#define IPT_MULTIPORT_MAX 15
/* bytes of a hashlimit's name, without the NUL (issue 14) */
#define IPT_HASHLIMIT_NAME_MAX 15
/* XT_LIMIT_SCALE: the fastest rate is 10000/second */
#define IPT_LIMIT_SCALE 10000u
/* the limit match's default burst (as nft's), which the output relies on */
#define IPT_LIMIT_BURST 5u
/* iptables-restore takes parameters (an address list) of 1023 bytes at most */
#define IPT_PARAM_MAX 1000

/* Address lists cut to fit a parameter: " -s a,b,c" each. */
struct addr_chunks {
	struct pc_buf *v;
	size_t n, cap;
};

/*
 * The parts of a rule's kernel rules that do not depend on the protocol
 * alternative, made once per rule: interface, address lists, conntrack
 * state, and the comment. @s and @d are the current chunks of saddr and
 * daddr (a long list takes several rules, as iptables would make anyway).
 */
struct rule_text {
	struct addr_chunks ifc;     /* " -i A -o B": one per pair of interfaces */
	size_t i;
	struct addr_chunks src, dst;
	size_t s, d;
	struct pc_buf state;
	struct pc_buf comment;
	/* matches (issue 14): " -m multiport --sports ...", one chunk per
	 * IPT_MULTIPORT_MAX slots, one empty chunk without source-port */
	struct addr_chunks spt;
	size_t p;
};

struct ipt {
	const struct pc_ir *ir;
	unsigned family;            /* PC_FAM_IPV4 or PC_FAM_IPV6 */
	const char *name;           /* backend name */
	struct pc_buf decl;         /* chain declarations and flushes */
	struct pc_buf rules;        /* -A lines not yet written to @out */
	/*
	 * Where the rules go as they are made (NULL: kept in @rules), and
	 * whether this is the pass before them that only collects the helper
	 * chains' declarations into @decl: those come first in the file.
	 */
	FILE *out;
	bool declaring;
	struct pc_diag *diag;
	int errors;
	/* scratch space reused from rule to rule */
	struct rule_text text, bare_text;
	struct pc_buf scratch;
	/* matches (issue 14): --hashlimit-name of the rule being written */
	char hashlimit[IPT_HASHLIMIT_NAME_MAX + 1];
};


/* Empties @b, keeping its memory; its data is "" afterwards. */
static inline void ipt_buf_reset(struct pc_buf *b)
{
	b->len = 0;
	pc_buf_add(b, "", 0);
}

/* Whether the backend emits IPv6 (ip6tables) rather than IPv4. */
bool ipt_fam_v6(const struct ipt *t);

/*
 * The prefixes of @set in the backend's family (*@count of them from
 * *@first); false when @set is not empty but has none.
 */
bool ipt_addr_range(const struct ipt *t, const struct pc_addr_set *set,
		    size_t *first, size_t *count);

/* Whether the protocol alternative @l4 exists in the backend's family. */
bool ipt_l4_in_family(const struct ipt *t, const struct pc_l4 *l4);

/*
 * Whether rule @r has kernel rules in the backend's family; stores how
 * many in *@kernel_rules when it is not NULL.
 */
bool ipt_rule_in_scope(const struct ipt *t, const struct pc_rule *r,
		       size_t *kernel_rules);

/* Appends the text of -m comment for a rule to @b. */
void ipt_rule_comment(struct pc_buf *b, enum pc_direction dir,
		      const struct pc_rule *r);

/* Checks the table name and every rule in scope; counts errors in t->errors. */
void ipt_run_checks(struct ipt *t);

/*
 * matches (issue 14): the --hashlimit-name of the per-source limit of rule
 * @idx of chain @dir in @buf (iptables_check.c says how it is made).
 */
bool ipt_hashlimit_name(const struct ipt *t, enum pc_direction dir, size_t idx,
			char *buf, size_t len);
/* Seconds a per-source bucket takes to refill: burst / rate. */
uint64_t ipt_refill_seconds(const struct pc_rule *r);

#endif
