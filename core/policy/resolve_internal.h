/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the resolver share: its state, groups and the
 * accumulators of one rule. Private to core/policy/: resolve.c (rules,
 * built-in rules, groups, the IR), resolve_services.c (service names,
 * ports and services groups), resolve_addr.c (addresses, hosts groups,
 * ICMP types, protocols).
 */
#ifndef PC_RESOLVE_INTERNAL_H
#define PC_RESOLVE_INTERNAL_H

/*
 * The resolver: walks the statements in order, resolves names through the
 * registry and groups, infers families, and builds the IR, built-in
 * behaviour included, so that every backend emits the same meaning from
 * the same place.
 */
#include "policy/resolve.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/catalog.h"
#include "ir/names.h"
#include "registry/registry.h"
#include "common/util.h"

#define N_TRANSPORTS __PC_TRANSPORT_MAX

/* Ports per transport, collected while resolving a rule. */
struct portacc {
	struct pc_port_range *v[N_TRANSPORTS];
	size_t n[N_TRANSPORTS];
	size_t cap[N_TRANSPORTS];
	bool any[N_TRANSPORTS];     /* every port of that transport */
	unsigned id;                /* set on first group reference, see svc_expansion */
};

/*
 * A services group resolved once for one context: its ports merged per
 * transport. The same group referenced again (in the same context) reuses
 * this instead of walking its items again, so nested groups cost what
 * their text costs, not what their expansion would (26 levels of
 * `g2 = { $g1, $g1 }` would otherwise be 2^26 walks).
 */
/* A catalogued trap a rule opens, by name or by port number. */
struct trap_use {
	const struct pc_cat_record *rec;
	struct pc_location loc;
	const char *port;       /* "2375" when written as a port number */
};

struct svc_expansion {
	unsigned inherited;         /* the transports the reference imposed */
	unsigned transports;        /* the policy's `transports` at the time */
	struct pc_port_set ports[N_TRANSPORTS];
	unsigned last_id;           /* the portacc it was last added to */
	bool bad;                   /* errors, reported the first time */
	/* the traps its items open: every rule that uses it is warned */
	struct trap_use *traps;
	size_t n_traps;
};

struct group {
	const char *name;
	enum pc_ast_stmt_kind kind;
	const struct pc_ast_stmt *stmt;
	bool resolving;             /* cycle detection */
	bool used;
	bool warned;                /* registry warnings are given once */
	bool bad;                   /* errors inside were reported at its definition */
	/* hosts groups are resolved once */
	bool resolved;
	struct pc_addr *addrs;
	size_t n_addrs;
	bool any;
	unsigned last_id;           /* the addracc it was last added to */
	/* services groups: one expansion per context they are used in */
	struct svc_expansion *exp;
	size_t n_exp, cap_exp;
	/* sets: a dynamic hosts group (no addresses here) */
	bool dynamic;
	/* the IR's copy of @name, shared by every rule that names it alone */
	const char *ir_name;
};

/* An address list of the IR, shared by the rules that have it (interned). */
struct addr_shared {
	uint64_t hash;
	size_t n;
	struct pc_addr *v;              /* NULL: a free slot */
};

struct resolver {
	const struct pc_registry *reg;
	struct pc_diag *diag;
	struct pc_arena *arena;
	bool lint;
	unsigned transports;        /* mask of 1 << enum pc_transport */
	/* a `transports` statement came before: services expand to every
	 * registered port on those transports, not to their practice */
	bool transports_set;
	const struct pc_catalog *cat;
	/* catalogued traps the rule being resolved opens (warned after its
	 * addresses are known: some are traps only from any source) */
	struct trap_use traps[8];
	size_t n_traps;
	struct group *groups;
	size_t n_groups, cap_groups;
	/* group names hashed to 1 + their index in @groups (0: free slot): a
	 * policy of many groups must not cost groups x references compares */
	size_t *index;
	size_t index_cap;           /* a power of two, at least 2 x n_groups */
	bool warned_depth;
	/* the item currently expanding warnings belong to (groups warn once) */
	bool quiet;
	/* "did you mean" costs an edit-distance pass over the registry: a
	 * policy full of unknown names gets it for the first ones only */
	unsigned suggestions_left;
	unsigned next_id;           /* of portacc / addracc, for duplicates */
	/* the address lists of the rules made so far, hashed by content: a
	 * group used by many rules is one list in the IR, not one per rule
	 * (a million-term policy of a hundred groups: 170 MB of copies) */
	struct addr_shared *addr_sets;
	size_t addr_sets_cap, addr_sets_n;  /* a power of two; used slots */
};

struct rulebuf {
	struct pc_rule *v;
	size_t n, cap;
};


struct addracc {
	/* owned, or with @borrowed a group's prefixes (the IR's arena):
	 * a rule that names one group, as `from $blocklist`, holds the
	 * group's million prefixes without a copy of its own */
	struct pc_addr *v;
	size_t n, cap;
	bool borrowed;
	bool any;
	const char *name;        /* the single group this came from, if any */
	struct group *group;     /* that group */
	const struct pc_location *name_loc; /* where that group is defined */
	size_t items;
	unsigned id;             /* set on first group reference */
	bool dynamic;            /* sets: @name is a dynamic group, alone */
};

/* The layer-4 matches of one rule: ports, ICMP types, protocols. */
struct l4acc {
	struct portacc ports;
	bool have_ports;                 /* a service/port/class match was given */
	bool icmp_any[2];
	bool icmp_given[2];
	uint8_t icmp_types[2][256];
	bool proto_given;
	uint8_t protos[256];
};

struct group *find_group(struct resolver *rs, const char *name);

void index_group(struct resolver *rs);

const char *fam_text(unsigned f);

void portacc_finish(struct portacc *pa);

void lint_warning(struct resolver *rs, const struct pc_location *loc,
		  const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

bool resolve_svc_item(struct resolver *rs, const struct pc_ast_item *it,
		      enum pc_ast_item_hint ctx, unsigned inherited,
		      struct portacc *pa, unsigned depth);

bool resolve_svc_items(struct resolver *rs, const struct pc_ast_list *l,
		       enum pc_ast_item_hint ctx, unsigned inherited,
		       struct portacc *pa, unsigned depth);

bool resolve_hosts_group(struct resolver *rs, struct group *g,
			 const struct pc_location *loc, unsigned depth);

bool resolve_addr_list(struct resolver *rs, const struct pc_ast_list *l,
		       struct addracc *aa, unsigned depth);

unsigned addr_families(const struct addracc *aa);

/* Frees what @aa owns (not a borrowed group's prefixes). */
void addracc_free(struct addracc *aa);

void addr_finish(struct resolver *rs, struct addracc *aa, unsigned families,
		 struct pc_addr_set *out);

bool resolve_icmp(struct resolver *rs, const struct pc_ast_list *l, bool v6,
		  struct l4acc *acc);

bool resolve_proto(struct resolver *rs, const struct pc_ast_list *l,
		   struct l4acc *acc);

/* hostsfile.c: the prefixes of `hosts NAME = file "PATH"` onto @aa;
 * false when the list could not be read or held errors (reported). */
bool resolve_hosts_file(struct resolver *rs, const struct pc_ast_stmt *s,
			struct addracc *aa);
void resolve_rule(struct resolver *rs, const struct pc_ast_stmt *s,
		  struct rulebuf *out);

/* Routers and gateways (routers), resolve_router.c */
struct natbuf {
	struct pc_nat_rule *v;
	size_t n, cap;
};

void resolve_nat(struct resolver *rs, const struct pc_ast_stmt *s,
		 struct natbuf *out);
/* Warns of NAT the filter never lets through (dnat target, masquerade). */
void lint_nat(struct resolver *rs, const struct pc_ir *ir);

/* @l: `on` or `out on` as written, NULL when absent. */
bool resolve_ifaces(struct resolver *rs, const struct pc_ast_list *l,
		    size_t *n_out, const char *const **out);

#endif
