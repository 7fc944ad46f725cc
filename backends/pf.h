/* SPDX-License-Identifier: MIT */
/*
 * What the pf backend's files share (internal): its state, and the
 * writers of pf.c that pf_route.c (forward and NAT) uses.
 */
#ifndef PC_BACKENDS_PF_H
#define PC_BACKENDS_PF_H

#include <stdbool.h>
#include <stddef.h>

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

struct pf {
	const struct pc_ir *ir;
	const struct pc_emit_options *opts;
	bool openbsd;
	struct pc_buf tables;
	struct pc_buf rules;
	struct pc_diag *diag;
	int errors;
	/* named address sets seen, and whether each became a table */
	struct named_set *named;
	size_t n_named, cap_named;
	/* what the routed packets are tagged with where they come in */
	char *forward_tag;
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

/* Writes rule @r of chain @dir to p->rules. */
void pf_emit_rule(struct pf *p, enum pc_direction dir, const struct pc_rule *r);

/* Writes the default of direction @as as a quick rule of direction @dir. */
void pf_put_default(struct pf *p, enum pc_direction dir, enum pc_direction as);

/* Writes the forward rules and the forward default to p->rules (pf_route.c). */
void pf_emit_forward_chain(struct pf *p);

/* Writes the NAT statements to @b, before every filter rule (pf_route.c). */
void pf_emit_nat(struct pf *p, struct pc_buf *b);

#endif
