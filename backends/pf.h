/* SPDX-License-Identifier: MIT */
/*
 * What the pf backend's files share (internal): its state, and the
 * writers of pf.c that pf_route.c (forward and NAT) uses.
 */
#ifndef PC_BACKENDS_PF_H
#define PC_BACKENDS_PF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "backends/text.h"
#include "common/util.h"

/* PF_RULE_LABEL_SIZE - 1 */
#define PF_LABEL_MAX 63
/* PF_TABLE_NAME_SIZE - 1 */
#define PF_TABLE_NAME_MAX 31

struct named_set {
	const struct pc_addr_set *set;
	bool table;
};

/*
 * A table the header declares, in the order the rules first use them:
 * a group's (@neg NULL), or the const table of a `from not` / `to not`
 * list of rule @neg (@which: 0 from, 1 to). The header writes them from
 * the IR's prefixes, not from a copy of their text.
 */
struct pf_table {
	const struct pc_addr_set *set;
	char name[32];
	const struct pc_rule *neg;
	int which;
};

/*
 * An interface wildcard and the pf interface group written for it:
 * from `-O ifgroup=WILDCARD:GROUP` (@mapped) or the wildcard's prefix
 * of letters (the driver group on OpenBSD and FreeBSD).
 */
struct pf_ifgroup {
	char *wildcard;
	char *group;
	bool mapped;
};

struct pf {
	const struct pc_ir *ir;
	const struct pc_emit_options *opts;
	bool openbsd;
	struct pf_table *tables;
	size_t n_tables, cap_tables;
	/*
	 * The rules made and not yet written: pf_flush() sends them to @out
	 * (NULL: a pass that only finds errors and what the header says drops
	 * them), tab-indented while @indent (inside the anchor of the in
	 * rules).
	 */
	struct pc_buf rules;
	FILE *out;
	bool indent;
	struct pc_diag *diag;
	int errors;
	/* named address sets seen, and whether each became a table */
	struct named_set *named;
	size_t n_named, cap_named;
	/* what the routed packets are tagged with where they come in */
	char *forward_tag;
	/*
	 * FreeBSD (no received-on): the interfaces the forward rules name
	 * with `on`, as the policy spells them; a routed packet is tagged
	 * "TABLE-forward-IFACE" by the first it came in by
	 * (pf_emit_forward_tags()), and @cur_tag is the tag a forward rule
	 * being written matches
	 */
	const char **fwd_in;
	size_t n_fwd_in, cap_fwd_in;
	const char *cur_tag;
	/* -O ifgroup mappings, and the groups the output relies on */
	struct pf_ifgroup *maps, *used;
	size_t n_maps, n_used, cap_maps, cap_used;
	/* matches (issue 14): the const tables of `from not` / `to not`
	 * groups: the rule they were written for, their names (source,
	 * destination; "" for none yet), and how many so far */
	const struct pc_rule *neg_rule;
	char neg_name[2][32];
	unsigned n_neg;
};

/* An error at @loc, counted in p->errors (what the backend cannot express). */
#define report(p, loc, ...) pc_text_error((p)->diag, &(p)->errors, loc, __VA_ARGS__)

/* Whether pf evaluates this chain's rule at all (see pf.c's top comment). */
bool pf_rule_written(const struct pf *p, enum pc_direction dir,
		     const struct pc_rule *r);

/*
 * The pf spelling of interface @name: the name itself, or for a wildcard
 * its interface group (recorded for the header). NULL, with an error at
 * @loc, when a wildcard has no group.
 */
const char *pf_iface(struct pf *p, const struct pc_location *loc, const char *name);

/* Whether @set (empty: any) has an address of the families @fam. */
bool pf_set_in_families(const struct pc_addr_set *set, unsigned fam);

/*
 * Appends the hosts of a from/to to @b (inline: only the addresses of
 * @fam); returns the number of pf rules pfctl makes of it.
 */
size_t pf_put_hosts(struct pf *p, struct pc_buf *b, const struct pc_addr_set *set,
		    unsigned fam);

/* Appends " port ..." of @ports to @b. */
void pf_put_ports(struct pc_buf *b, const struct pc_port_set *ports);

/* Appends the name of protocol @proto to @b. */
void pf_put_proto(struct pc_buf *b, unsigned proto);

/* Appends the "# FILE:LINE" line of rule @r of chain @dir to @b. */
void pf_put_comment_line_to(struct pc_buf *b, enum pc_direction dir,
			    const struct pc_rule *r);

/*
 * Hands the rules made so far to p->out (or drops them) once there are
 * 64 KB of them, or with @all whatever there is; called between rules.
 */
void pf_flush(struct pf *p, bool all);

/* Writes rule @r of chain @dir to p->rules. */
void pf_emit_rule(struct pf *p, enum pc_direction dir, const struct pc_rule *r);

/* Writes the default of direction @as as a quick rule of direction @dir. */
void pf_put_default(struct pf *p, enum pc_direction dir, enum pc_direction as);

/*
 * FreeBSD: collects the interfaces forward rules name with `on` and
 * reports those that overlap (pf_route.c).
 */
void pf_check_forward_tags(struct pf *p);

/* FreeBSD: writes the rules tagging routed packets by where they came in. */
void pf_emit_forward_tags(struct pf *p);

/* Writes the forward rules and the forward default to p->rules (pf_route.c). */
void pf_emit_forward_chain(struct pf *p);

/* Writes the NAT statements to @b, before every filter rule (pf_route.c). */
void pf_emit_nat(struct pf *p, struct pc_buf *b);

#endif
