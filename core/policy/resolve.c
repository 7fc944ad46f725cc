/* SPDX-License-Identifier: MIT */
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
};

struct rulebuf {
	struct pc_rule *v;
	size_t n, cap;
};

static size_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (size_t)h;
}

static struct group *find_group(struct resolver *rs, const char *name)
{
	size_t mask = rs->index_cap - 1;

	if (!rs->index_cap)
		return NULL;
	for (size_t i = name_hash(name) & mask; rs->index[i]; i = (i + 1) & mask)
		if (strcmp(rs->groups[rs->index[i] - 1].name, name) == 0)
			return &rs->groups[rs->index[i] - 1];
	return NULL;
}

static void index_put(size_t *index, size_t cap, const char *name, size_t slot)
{
	size_t i = name_hash(name) & (cap - 1);

	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = slot;
}

/* Adds the last group of rs->groups to the index. */
static void index_group(struct resolver *rs)
{
	if (2 * rs->n_groups > rs->index_cap) {
		size_t cap = rs->index_cap ? 2 * rs->index_cap : 64;
		size_t *index = xcalloc(cap, sizeof(*index));

		for (size_t i = 0; i + 1 < rs->n_groups; i++)
			index_put(index, cap, rs->groups[i].name, i + 1);
		free(rs->index);
		rs->index = index;
		rs->index_cap = cap;
	}
	index_put(rs->index, rs->index_cap, rs->groups[rs->n_groups - 1].name, rs->n_groups);
}

static const char *fam_text(unsigned f)
{
	switch (f) {
	case PC_FAM_IPV4:
		return "IPv4";
	case PC_FAM_IPV6:
		return "IPv6";
	case PC_FAM_ALL:
		return "IPv4 and IPv6";
	default:
		return "no family";
	}
}

/* ---- ports ---------------------------------------------------------- */

static void port_add(struct portacc *pa, unsigned t, uint16_t lo, uint16_t hi)
{
	pa->v[t] = xgrow(pa->v[t], &pa->cap[t], pa->n[t] + 1, sizeof(*pa->v[t]));
	pa->v[t][pa->n[t]].lo = lo;
	pa->v[t][pa->n[t]].hi = hi;
	pa->n[t]++;
}

static void portacc_finish(struct portacc *pa)
{
	for (unsigned t = 0; t < N_TRANSPORTS; t++)
		free(pa->v[t]);
}

static bool is_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "80", "8000-8100": returns 1 when it is a port or range, 0 when it is no
 * number at all, -1 after reporting an error. */
static int parse_port_range(struct resolver *rs, const struct pc_ast_item *it,
			    uint16_t *lo, uint16_t *hi)
{
	const char *s = it->text, *dash = strchr(s, '-');
	char a[16], b[16];
	unsigned long x, y;

	if (!dash) {
		if (!is_all_digits(s))
			return 0;
		if (strlen(s) > 5 || (x = strtoul(s, NULL, 10)) > 65535) {
			pc_diag_error(rs->diag, &it->loc, "port %s out of range 0-65535", s);
			return -1;
		}
		*lo = *hi = (uint16_t)x;
		return 1;
	}
	if ((size_t)(dash - s) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return is_all_digits(dash + 1) ? (pc_diag_error(rs->diag, &it->loc,
				"port range %s out of range 0-65535", s), -1) : 0;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	strcpy(b, dash + 1);
	if (!is_all_digits(a) || !is_all_digits(b))
		return 0;
	x = strtoul(a, NULL, 10);
	y = strtoul(b, NULL, 10);
	if (strlen(a) > 5 || strlen(b) > 5 || x > 65535 || y > 65535) {
		pc_diag_error(rs->diag, &it->loc, "port range %s out of range 0-65535", s);
		return -1;
	}
	if (x > y) {
		pc_diag_error(rs->diag, &it->loc,
			      "reversed port range %s (did you mean %lu-%lu?)", s, y, x);
		return -1;
	}
	*lo = (uint16_t)x;
	*hi = (uint16_t)y;
	return 1;
}

/* The transports an item expands to: its own /PROTO, the list's, the
 * enclosing group reference's, or the policy's `transports`. */
static int item_transports(struct resolver *rs, const char *suffix,
			   const struct pc_location *loc, unsigned inherited,
			   unsigned *mask, bool *explicit_proto)
{
	int t;

	if (!suffix) {
		*mask = inherited ? inherited : rs->transports;
		*explicit_proto = inherited != 0;
		return 0;
	}
	t = pc_transport_parse(suffix);
	if (t < 0) {
		pc_diag_error(rs->diag, loc,
			      "unknown transport '%s' (expected tcp, udp, sctp or dccp)",
			      suffix);
		return -1;
	}
	if (inherited && !(inherited & (1u << t))) {
		pc_diag_error(rs->diag, loc,
			      "'/%s' conflicts with the protocol given around it", suffix);
		return -1;
	}
	*mask = 1u << t;
	*explicit_proto = true;
	return 0;
}

static void transport_list(unsigned mask, char *buf, size_t n)
{
	buf[0] = '\0';
	for (unsigned t = 0; t < N_TRANSPORTS; t++)
		if (mask & (1u << t)) {
			if (buf[0])
				strncat(buf, ", ", n - strlen(buf) - 1);
			strncat(buf, pc_transport_name(t), n - strlen(buf) - 1);
		}
}

/*
 * A lint warning with the name a policy line silences it by
 * (`# portcullis: ignore ID`), given once per group.
 */
static void lint_warning(struct resolver *rs, const struct pc_location *loc,
			 const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lint_warning(struct resolver *rs, const struct pc_location *loc,
			 const char *id, const char *fmt, ...)
{
	va_list ap;

	if (!rs->lint || rs->quiet || pc_diag_silenced(rs->diag, loc, id))
		return;
	va_start(ap, fmt);
	pc_diag_vreport(rs->diag, PC_SEV_WARNING, loc, fmt, ap);
	va_end(ap);
}

static void warn_reserved_port(struct resolver *rs, const struct pc_location *loc,
			       uint16_t port, unsigned mask)
{
	for (unsigned t = 0; t < N_TRANSPORTS; t++) {
		const struct pc_reg_entry *e[8];
		size_t n, k, bad = 0;

		if (!(mask & (1u << t)))
			continue;
		/* the registry has no name for it, but the software that uses it has */
		if (pc_catalog_find_port(rs->cat, port, t))
			continue;
		n = pc_registry_find_port(rs->reg, port, t, e, PC_ARRAY_SIZE(e));
		k = n < PC_ARRAY_SIZE(e) ? n : PC_ARRAY_SIZE(e);
		for (size_t i = 0; i < k; i++)
			if (e[i]->status == PC_REG_RESERVED || e[i]->status == PC_REG_UNASSIGNED)
				bad++;
		if (n && bad == k) {
			lint_warning(rs, loc, "unassigned-port",
				     "port %u/%s is %s in the registry", port, pc_transport_name(t),
				     e[0]->status == PC_REG_RESERVED ? "Reserved" : "Unassigned");
			return;
		}
	}
}

static void suggest_names(struct resolver *rs, const char *name, char *buf, size_t n)
{
	const char *s[3];
	size_t k;

	buf[0] = '\0';
	/* the registry's spelling pass is the costly one: a policy full of
	 * unknown names gets it for the first ones only */
	k = pc_service_suggest(rs->reg, rs->cat, name, rs->suggestions_left > 0, s,
			       PC_ARRAY_SIZE(s));
	if (rs->suggestions_left)
		rs->suggestions_left--;
	for (size_t i = 0; i < k; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, n - len, "%s'%s'", i ? (i + 1 == k ? " or " : ", ") : "",
			 s[i]);
	}
}

/* The transports an entry applies to: an IANA row without one means all. */
static unsigned entry_transports(const struct pc_reg_entry *e)
{
	if (e->transport >= N_TRANSPORTS)
		return (1u << N_TRANSPORTS) - 1;
	return 1u << e->transport;
}

static void add_trap(struct resolver *rs, const struct pc_cat_record *rec,
		     const struct pc_location *loc, const char *port)
{
	if (rs->n_traps >= PC_ARRAY_SIZE(rs->traps))
		return;
	rs->traps[rs->n_traps].rec = rec;
	rs->traps[rs->n_traps].loc = *loc;
	rs->traps[rs->n_traps].port = port;
	rs->n_traps++;
}

static bool resolve_service_name(struct resolver *rs, const struct pc_ast_item *it,
				  unsigned mask, bool explicit_proto,
				  struct portacc *pa)
{
	const struct pc_reg_entry *const *e;
	struct pc_svc svc;
	size_t n;
	unsigned have = 0, used = 0, opened = 0;
	size_t with_port = 0;
	bool deassigned = false;

	pc_service_lookup(rs->reg, rs->cat, it->text, &svc);
	e = svc.e;
	n = svc.n;
	if (svc.rec && svc.rec->n_protos && n == 0) {
		const char *p = pc_proto_name(svc.rec->protos[0]);

		pc_diag_error(rs->diag, &it->loc,
			      "service '%s' is IP protocol %u (%s), not a port: write 'proto %s'",
			      it->text, svc.rec->protos[0], p ? p : "?", p ? p : "?");
		return false;
	}
	/* what a name without /PROTO means: the transports it is used on,
	 * unless the policy asked for every registered one */
	if (!explicit_proto && !rs->transports_set && n)
		mask = svc.practice;
	if (n == 0) {
		char sug[160];

		suggest_names(rs, it->text, sug, sizeof(sug));
		if (sug[0])
			pc_diag_error(rs->diag, &it->loc,
				      "unknown service '%s' (did you mean %s?)", it->text, sug);
		else
			pc_diag_error(rs->diag, &it->loc, "unknown service '%s'", it->text);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!e[i]->has_port)
			continue;
		with_port++;
		have |= entry_transports(e[i]);
	}
	if (!with_port) {
		pc_diag_error(rs->diag, &it->loc,
			      "service '%s' is registered with no port; use port N", it->text);
		return false;
	}
	if (!(have & mask)) {
		char reg[64], want[64];

		transport_list(have, reg, sizeof(reg));
		transport_list(mask, want, sizeof(want));
		if (explicit_proto)
			pc_diag_error(rs->diag, it->suffix ? &it->suffix_loc : &it->loc,
				      "service '%s' is not %s for %s (%s for %s)",
				      it->text, svc.origin == PC_SVC_CATALOG ? "catalogued" : "registered",
				      want, svc.origin == PC_SVC_CATALOG ? "catalogued" : "registered", reg);
		else
			pc_diag_error(rs->diag, &it->loc,
				      "service '%s' is not registered for the policy's transports (%s); it is registered for %s: write %s/%s",
				      it->text, want, reg, it->text,
				      pc_transport_name((unsigned)__builtin_ctz(have)));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned ts = entry_transports(e[i]) & mask;

		if (!e[i]->has_port || !ts)
			continue;
		for (unsigned t = 0; t < N_TRANSPORTS; t++)
			if (ts & (1u << t))
				port_add(pa, t, e[i]->port_lo, e[i]->port_hi);
		opened |= ts;
		used++;
		if (e[i]->status == PC_REG_DEASSIGNED)
			deassigned = true;
	}
	if (svc.rec && svc.rec->trap)
		add_trap(rs, svc.rec, &it->loc, NULL);
	if (!rs->lint || rs->quiet)
		return true;
	if (svc.rec && svc.rec->n_protos) {
		const char *p = pc_proto_name(svc.rec->protos[0]);

		lint_warning(rs, &it->loc, "bare-protocol",
			     "service '%s' opens ports only; it also needs IP protocol %u (%s), which no port carries: add a rule with 'proto %s'",
			     it->text, svc.rec->protos[0], p ? p : "?", p ? p : "?");
	}
	if (!explicit_proto && !rs->transports_set && svc.why == PC_SVC_WHY_NONE) {
		char ts[64];

		transport_list(opened, ts, sizeof(ts));
		lint_warning(rs, &it->loc, "no-practice",
			     "service '%s' has no practice entry: opened its registered ports on %s (write %s/PROTO to choose)",
			     it->text, ts, it->text);
	}
	/* distinct port ranges among the used entries */
	{
		struct pc_port_range r[16];
		size_t nr = 0;

		for (size_t i = 0; i < n; i++) {
			bool seen = false;

			if (!e[i]->has_port || !(mask & entry_transports(e[i])))
				continue;
			for (size_t j = 0; j < nr; j++)
				if (r[j].lo == e[i]->port_lo && r[j].hi == e[i]->port_hi)
					seen = true;
			if (!seen && nr < PC_ARRAY_SIZE(r)) {
				r[nr].lo = e[i]->port_lo;
				r[nr].hi = e[i]->port_hi;
				nr++;
			}
		}
		/* a catalogued name is a group on purpose (ipsec, etcd, salt) */
		if (nr > 1 && svc.origin != PC_SVC_CATALOG) {
			struct pc_buf b;

			pc_buf_init(&b);
			for (size_t j = 0; j < nr; j++) {
				if (r[j].lo == r[j].hi)
					pc_buf_printf(&b, "%s%u", j ? ", " : "", r[j].lo);
				else
					pc_buf_printf(&b, "%s%u-%u", j ? ", " : "", r[j].lo, r[j].hi);
			}
			lint_warning(rs, &it->loc, "several-ports",
				     "service '%s' expands to several ports: %s", it->text, b.data);
			pc_buf_finish(&b);
		}
	}
	if (deassigned)
		lint_warning(rs, &it->loc, "deassigned",
			     "service '%s' is de-assigned in the registry", it->text);
	return used > 0;
}

static bool resolve_svc_items(struct resolver *rs, const struct pc_ast_list *l,
			      enum pc_ast_item_hint ctx, unsigned inherited,
			      struct portacc *pa, unsigned depth);

static void push_expansion(struct resolver *rs, struct svc_expansion *e,
			   struct portacc *pa)
{
	if (!pa->id)
		pa->id = ++rs->next_id;
	/* a group listed twice in one place adds nothing the second time */
	if (e->last_id == pa->id)
		return;
	e->last_id = pa->id;
	for (unsigned t = 0; t < N_TRANSPORTS; t++)
		for (size_t i = 0; i < e->ports[t].n; i++)
			port_add(pa, t, e->ports[t].v[i].lo, e->ports[t].v[i].hi);
}

/* Adds the ports of services group @g, referenced with @inherited transports. */
static bool add_svc_group(struct resolver *rs, struct group *g, unsigned inherited,
			  struct portacc *pa, unsigned depth)
{
	struct portacc sub;
	struct svc_expansion *e;
	bool ok, quiet = rs->quiet;
	size_t traps_before = rs->n_traps;

	for (size_t i = 0; i < g->n_exp; i++) {
		e = &g->exp[i];
		if (e->inherited == inherited && e->transports == rs->transports) {
			g->used = true;
			if (e->bad)
				return false;
			for (size_t k = 0; k < e->n_traps; k++)
				add_trap(rs, e->traps[k].rec, &e->traps[k].loc, e->traps[k].port);
			push_expansion(rs, e, pa);
			return true;
		}
	}
	memset(&sub, 0, sizeof(sub));
	g->resolving = true;
	rs->quiet = quiet || g->warned;
	g->warned = true;
	g->used = true;
	ok = resolve_svc_items(rs, &g->stmt->list, PC_AST_HINT_SERVICE, inherited,
			       &sub, depth + 1);
	rs->quiet = quiet;
	g->resolving = false;
	/* at most 16 x 16 contexts (transport masks): the list stays short */
	g->exp = xgrow(g->exp, &g->cap_exp, g->n_exp + 1, sizeof(*g->exp));
	e = &g->exp[g->n_exp++];
	memset(e, 0, sizeof(*e));
	e->inherited = inherited;
	e->transports = rs->transports;
	e->n_traps = rs->n_traps - traps_before;
	e->traps = pc_arena_memdup(rs->arena, rs->traps + traps_before,
				   e->n_traps * sizeof(*e->traps));
	if (!ok) {
		e->bad = true;
		portacc_finish(&sub);
		return false;
	}
	for (unsigned t = 0; t < N_TRANSPORTS; t++) {
		e->ports[t].n = sub.n[t];
		e->ports[t].v = pc_arena_memdup(rs->arena, sub.v[t], sub.n[t] * sizeof(*sub.v[t]));
		pc_port_set_normalize(&e->ports[t]);
	}
	portacc_finish(&sub);
	push_expansion(rs, e, pa);
	return true;
}

static bool resolve_svc_item(struct resolver *rs, const struct pc_ast_item *it,
			     enum pc_ast_item_hint ctx, unsigned inherited,
			     struct portacc *pa, unsigned depth)
{
	enum pc_ast_item_hint hint = it->hint != PC_AST_HINT_NONE ? it->hint : ctx;
	unsigned mask;
	bool explicit_proto;
	uint16_t lo, hi;
	int r;

	if (item_transports(rs, it->suffix, &it->suffix_loc, inherited, &mask,
			    &explicit_proto) < 0)
		return false;
	if (it->kind == PC_AST_VAR) {
		struct group *g = find_group(rs, it->text);

		if (!g) {
			pc_diag_error(rs->diag, &it->loc, "undefined group '$%s'", it->text);
			return false;
		}
		if (g->kind != PC_AST_SERVICES) {
			pc_diag_error(rs->diag, &it->loc,
				      "'$%s' is a hosts group, not a services group", it->text);
			return false;
		}
		if (g->bad)
			return false;
		if (g->resolving) {
			pc_diag_error(rs->diag, &it->loc, "group '$%s' refers to itself", it->text);
			return false;
		}
		if (depth >= PC_MAX_GROUP_DEPTH) {
			pc_diag_error(rs->diag, &it->loc, "groups nested more than %d deep",
				      PC_MAX_GROUP_DEPTH);
			return false;
		}
		return add_svc_group(rs, g, it->suffix ? mask : inherited, pa, depth);
	}
	if (hint == PC_AST_HINT_CLASS) {
		int c = it->kind == PC_AST_WORD ? pc_port_class_parse(it->text) : -1;

		if (c < 0) {
			pc_diag_error(rs->diag, &it->loc,
				      "unknown port class '%s' (expected system, user or dynamic)",
				      it->text);
			return false;
		}
		pc_port_class_range((enum pc_port_class)c, &lo, &hi);
		for (unsigned t = 0; t < N_TRANSPORTS; t++)
			if (mask & (1u << t))
				port_add(pa, t, lo, hi);
		return true;
	}
	if (it->kind == PC_AST_STRING) {
		if (hint == PC_AST_HINT_PORT) {
			pc_diag_error(rs->diag, &it->loc, "expected a port number, got a string");
			return false;
		}
		return resolve_service_name(rs, it, mask, explicit_proto, pa);
	}
	r = parse_port_range(rs, it, &lo, &hi);
	if (r < 0)
		return false;
	if (r == 1) {
		for (unsigned t = 0; t < N_TRANSPORTS; t++)
			if (mask & (1u << t))
				port_add(pa, t, lo, hi);
		if (rs->lint && !rs->quiet && lo == hi)
			warn_reserved_port(rs, &it->loc, lo, mask);
		/* the same trap by its number (port 2375, port 6379) */
		for (unsigned t = 0; lo == hi && t < N_TRANSPORTS; t++) {
			const struct pc_cat_record *c = (mask & (1u << t)) ?
				pc_catalog_find_port(rs->cat, lo, t) : NULL;

			if (c && c->trap) {
				add_trap(rs, c, &it->loc, pc_arena_strdup(rs->arena, it->text));
				break;
			}
		}
		return true;
	}
	if (hint == PC_AST_HINT_PORT) {
		pc_diag_error(rs->diag, &it->loc,
			      "expected a port or port range, got '%s' (use 'service %s' for a name)",
			      it->text, it->text);
		return false;
	}
	/* a name: check the syntax of the policy language */
	if (!isalnum((unsigned char)it->text[0]) || strchr(it->text, ':')) {
		pc_diag_error(rs->diag, &it->loc, "'%s' is not a valid service name", it->text);
		return false;
	}
	return resolve_service_name(rs, it, mask, explicit_proto, pa);
}

static bool resolve_svc_items(struct resolver *rs, const struct pc_ast_list *l,
			      enum pc_ast_item_hint ctx, unsigned inherited,
			      struct portacc *pa, unsigned depth)
{
	unsigned mask = inherited;
	bool explicit_proto, ok = true;

	if (l->suffix) {
		if (item_transports(rs, l->suffix, &l->suffix_loc, inherited, &mask,
				    &explicit_proto) < 0)
			return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (!resolve_svc_item(rs, &l->v[i], ctx, mask, pa, depth))
			ok = false;
	return ok;
}

/* ---- addresses ------------------------------------------------------ */

bool pc_addr_parse(const char *text, const char *plen_text, struct pc_addr *out,
		   char *err, size_t errlen)
{
	unsigned max;
	unsigned long plen;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strchr(text, ':')) {
		if (inet_pton(AF_INET6, text, out->a) != 1) {
			snprintf(err, errlen, "bad IPv6 address '%s'", text);
			return false;
		}
		out->family = PC_FAM_IPV6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, text, out->a) != 1) {
			bool name = false;

			for (const char *p = text; *p; p++)
				if (isalpha((unsigned char)*p))
					name = true;
			snprintf(err, errlen, name ?
				 "bad address '%s' (host names are not resolved: use an address or a $group)" :
				 "bad IPv4 address '%s'", text);
			return false;
		}
		out->family = PC_FAM_IPV4;
		max = 32;
	}
	plen = max;
	if (plen_text) {
		if (!is_all_digits(plen_text) || strlen(plen_text) > 3 ||
		    (plen = strtoul(plen_text, &end, 10)) > max) {
			snprintf(err, errlen, "bad prefix length '/%s' (0-%u for %s)",
				 plen_text, max, max == 32 ? "IPv4" : "IPv6");
			return false;
		}
	}
	out->plen = (uint8_t)plen;
	/* host bits must be zero: say which prefix was probably meant */
	{
		struct pc_addr net = *out;

		pc_prefix_mask(&net);
		if (memcmp(net.a, out->a, sizeof(net.a)) != 0) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(max == 32 ? AF_INET : AF_INET6, net.a, buf, sizeof(buf));
			snprintf(err, errlen,
				 "host bits set in %s/%lu (did you mean %s/%lu?)",
				 text, plen, buf, plen);
			return false;
		}
	}
	return true;
}

void pc_prefix_mask(struct pc_addr *a)
{
	unsigned full = a->plen / 8, rest = a->plen % 8;

	if (full >= 16)
		return;
	if (rest)
		a->a[full++] &= (uint8_t)(0xff << (8 - rest));
	memset(a->a + full, 0, 16 - full);
}

/* Bytes @p[0..7] as a number, the first byte highest. */
static inline uint64_t be64_load(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Two 64-bit compares, no memcmp() call: the lint and the optimiser ask
 * this some 100,000 times for a 2,000-rule policy. */
bool pc_prefix_contains(const struct pc_addr *outer, const struct pc_addr *inner)
{
	unsigned plen = outer->plen;

	if (outer->family != inner->family || plen > inner->plen)
		return false;
	for (unsigned w = 0; w < 2 && plen; w++) {
		unsigned bits = plen > 64 ? 64 : plen;
		uint64_t x = be64_load(outer->a + 8 * w) ^ be64_load(inner->a + 8 * w);

		if (x >> (64 - bits))
			return false;
		plen -= bits;
	}
	return true;
}

static int addr_cmp(const void *pa, const void *pb)
{
	const struct pc_addr *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->a, b->a, 16);
	if (c)
		return c;
	return (int)a->plen - (int)b->plen;
}

void pc_addr_set_normalize(struct pc_addr_set *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), addr_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (k && pc_prefix_contains(&s->v[k - 1], &s->v[i]))
			continue;
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct pc_port_range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

void pc_port_set_normalize(struct pc_port_set *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), range_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (k && (uint32_t)s->v[i].lo <= (uint32_t)s->v[k - 1].hi + 1) {
			if (s->v[i].hi > s->v[k - 1].hi)
				s->v[k - 1].hi = s->v[i].hi;
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

struct addracc {
	struct pc_addr *v;
	size_t n, cap;
	bool any;
	const char *name;        /* the single group this came from, if any */
	size_t items;
	unsigned id;             /* set on first group reference */
};

static void addr_push(struct addracc *aa, const struct pc_addr *a)
{
	aa->v = xgrow(aa->v, &aa->cap, aa->n + 1, sizeof(*aa->v));
	aa->v[aa->n++] = *a;
}

static bool resolve_addr_list(struct resolver *rs, const struct pc_ast_list *l,
			      struct addracc *aa, unsigned depth);

static bool resolve_hosts_group(struct resolver *rs, struct group *g,
				const struct pc_location *loc, unsigned depth)
{
	struct addracc sub;
	bool ok;

	if (g->resolved)
		return true;
	if (g->bad)
		return false;
	if (g->resolving) {
		pc_diag_error(rs->diag, loc, "group '$%s' refers to itself", g->name);
		return false;
	}
	if (depth >= PC_MAX_GROUP_DEPTH) {
		pc_diag_error(rs->diag, loc, "groups nested more than %d deep",
			      PC_MAX_GROUP_DEPTH);
		return false;
	}
	memset(&sub, 0, sizeof(sub));
	g->resolving = true;
	ok = resolve_addr_list(rs, &g->stmt->list, &sub, depth + 1);
	g->resolving = false;
	if (!ok) {
		free(sub.v);
		g->bad = true;
		return false;
	}
	g->resolved = true;
	g->any = sub.any;
	/* kept merged: a group made of other groups holds each address once,
	 * so nesting costs what the text costs, not what it would expand to */
	{
		struct pc_addr_set set = { NULL, sub.n, sub.v };

		pc_addr_set_normalize(&set);
		g->n_addrs = set.n;
	}
	g->addrs = pc_arena_memdup(rs->arena, sub.v, g->n_addrs * sizeof(*sub.v));
	free(sub.v);
	return true;
}

/* Inside ::ffff:0:0/96, the IPv4-mapped addresses (RFC 4291 2.5.5.2). */
static bool v4_mapped(const struct pc_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->family == PC_FAM_IPV6 && a->plen >= 96 &&
	       memcmp(a->a, prefix, sizeof(prefix)) == 0;
}

/*
 * An IPv4 packet never carries such an address: a rule written with one
 * would match no IPv4 client it names (while tools that unmap addresses,
 * as the lockout guard does, would think it does). The IPv4 spelling is
 * what was meant.
 */
static void report_v4_mapped(struct resolver *rs, const struct pc_ast_item *it,
			     const struct pc_addr *a)
{
	char v4[INET_ADDRSTRLEN], plen[8] = "";

	inet_ntop(AF_INET, a->a + 12, v4, sizeof(v4));
	if (it->suffix)
		snprintf(plen, sizeof(plen), "/%u", a->plen - 96u);
	pc_diag_error(rs->diag, &it->loc,
		      "'%s%s%s' is an IPv4-mapped IPv6 address, which no IPv4 packet carries: write %s%s",
		      it->text, it->suffix ? "/" : "", it->suffix ? it->suffix : "", v4, plen);
}

static bool resolve_addr_list(struct resolver *rs, const struct pc_ast_list *l,
			      struct addracc *aa, unsigned depth)
{
	bool ok = true;

	if (l->suffix) {
		pc_diag_error(rs->diag, &l->suffix_loc,
			      "a prefix length goes after each address, not after the list");
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct pc_ast_item *it = &l->v[i];
		struct pc_addr a;
		char err[160];

		aa->items++;
		if (it->kind == PC_AST_VAR) {
			struct group *g = find_group(rs, it->text);

			if (!g) {
				pc_diag_error(rs->diag, &it->loc, "undefined group '$%s'", it->text);
				ok = false;
				continue;
			}
			if (g->kind != PC_AST_HOSTS) {
				pc_diag_error(rs->diag, &it->loc,
					      "'$%s' is a services group, not a hosts group", it->text);
				ok = false;
				continue;
			}
			if (it->suffix) {
				pc_diag_error(rs->diag, &it->suffix_loc,
					      "a group takes no '/' suffix");
				ok = false;
				continue;
			}
			g->used = true;
			if (!resolve_hosts_group(rs, g, &it->loc, depth)) {
				ok = false;
				continue;
			}
			if (!aa->id)
				aa->id = ++rs->next_id;
			if (l->n == 1)
				aa->name = g->name;
			/* a group listed twice in one place adds nothing the second time */
			if (g->last_id == aa->id)
				continue;
			g->last_id = aa->id;
			aa->any |= g->any;
			for (size_t j = 0; j < g->n_addrs; j++)
				addr_push(aa, &g->addrs[j]);
			continue;
		}
		if (it->kind == PC_AST_STRING) {
			pc_diag_error(rs->diag, &it->loc,
				      "expected an address, got a string (addresses are not quoted)");
			ok = false;
			continue;
		}
		if (strcmp(it->text, "any") == 0 && !it->suffix) {
			aa->any = true;
			continue;
		}
		if (!pc_addr_parse(it->text, it->suffix, &a, err, sizeof(err))) {
			pc_diag_error(rs->diag, &it->loc, "%s", err);
			ok = false;
			continue;
		}
		if (v4_mapped(&a)) {
			report_v4_mapped(rs, it, &a);
			ok = false;
			continue;
		}
		addr_push(aa, &a);
	}
	return ok;
}

static unsigned addr_families(const struct addracc *aa)
{
	unsigned f = 0;

	if (aa->any)
		return PC_FAM_ALL;
	for (size_t i = 0; i < aa->n; i++)
		f |= aa->v[i].family;
	return f;
}

static void addr_finish(struct resolver *rs, struct addracc *aa, unsigned families,
			struct pc_addr_set *out)
{
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (aa->any || aa->n == 0) {
		free(aa->v);
		return;
	}
	for (size_t i = 0; i < aa->n; i++)
		if (families & aa->v[i].family)
			aa->v[k++] = aa->v[i];
	out->n = k;
	out->v = pc_arena_memdup(rs->arena, aa->v, k * sizeof(*aa->v));
	out->name = aa->name && k == aa->n ? pc_arena_strdup(rs->arena, aa->name) : NULL;
	pc_addr_set_normalize(out);
	free(aa->v);
}

/* ---- rules ---------------------------------------------------------- */

struct l4acc {
	struct portacc ports;
	bool have_ports;                 /* a service/port/class match was given */
	bool icmp_any[2];
	bool icmp_given[2];
	uint8_t icmp_types[2][256];
	bool proto_given;
	uint8_t protos[256];
};

static bool resolve_icmp(struct resolver *rs, const struct pc_ast_list *l, bool v6,
			 struct l4acc *acc)
{
	bool ok = true;

	acc->icmp_given[v6] = true;
	if (l->suffix) {
		pc_diag_error(rs->diag, &l->suffix_loc, "unexpected '/%s' after ICMP types",
			      l->suffix);
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct pc_ast_item *it = &l->v[i];
		int t;

		if (it->kind != PC_AST_WORD || it->suffix) {
			pc_diag_error(rs->diag, &it->loc, "expected an %s type name",
				      v6 ? "ICMPv6" : "ICMP");
			ok = false;
			continue;
		}
		if (strcmp(it->text, "any") == 0) {
			acc->icmp_any[v6] = true;
			continue;
		}
		t = pc_icmp_type_parse(it->text, v6);
		if (t < 0) {
			const char *s = pc_icmp_type_suggest(it->text, v6);
			const char *other = pc_icmp_type_parse(it->text, !v6) >= 0 ?
					    (v6 ? " (that is an ICMP type: use icmp)" :
						  " (that is an ICMPv6 type: use icmpv6)") : "";

			if (s && !*other)
				pc_diag_error(rs->diag, &it->loc,
					      "unknown %s type '%s' (did you mean '%s'?)",
					      v6 ? "ICMPv6" : "ICMP", it->text, s);
			else
				pc_diag_error(rs->diag, &it->loc, "unknown %s type '%s'%s",
					      v6 ? "ICMPv6" : "ICMP", it->text, other);
			ok = false;
			continue;
		}
		acc->icmp_types[v6][t] = 1;
	}
	return ok;
}

static bool resolve_proto(struct resolver *rs, const struct pc_ast_list *l,
			  struct l4acc *acc)
{
	bool ok = true;

	acc->proto_given = true;
	if (l->suffix) {
		pc_diag_error(rs->diag, &l->suffix_loc, "unexpected '/%s' after proto", l->suffix);
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct pc_ast_item *it = &l->v[i];
		int p = it->kind == PC_AST_WORD && !it->suffix ? pc_proto_parse(it->text) : -1;

		if (p < 0) {
			pc_diag_error(rs->diag, &it->loc,
				      "unknown protocol '%s' (a name such as tcp, udp, sctp, dccp, icmp, icmpv6, esp, gre, or a number 0-255)",
				      it->text);
			ok = false;
			continue;
		}
		acc->protos[p] = 1;
	}
	return ok;
}

/* An interface name, or a prefix and '*' (eth*): 1-15 characters in all. */
static bool valid_iface(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || (n == 1 && s[0] == '*'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-+@", s[i]) &&
		    !(s[i] == '*' && i == n - 1))
			return false;
	return true;
}

static int l4_cmp(const void *pa, const void *pb)
{
	const struct pc_l4 *a = pa, *b = pb;

	return (int)a->proto - (int)b->proto;
}

static void set_port_l4(struct resolver *rs, struct pc_l4 *l4, unsigned proto,
			struct pc_port_range *v, size_t n, bool any)
{
	memset(l4, 0, sizeof(*l4));
	l4->proto = (uint8_t)proto;
	if (any || n == 0)
		return;
	l4->dports.v = pc_arena_memdup(rs->arena, v, n * sizeof(*v));
	l4->dports.n = n;
	pc_port_set_normalize(&l4->dports);
	if (l4->dports.n == 1 && l4->dports.v[0].lo == 0 && l4->dports.v[0].hi == 65535)
		l4->dports.n = 0;
}

static void set_icmp_l4(struct resolver *rs, struct pc_l4 *l4, unsigned proto,
			const uint8_t *types, bool any)
{
	uint8_t v[256];
	size_t n = 0;

	memset(l4, 0, sizeof(*l4));
	l4->proto = (uint8_t)proto;
	if (any)
		return;
	for (unsigned t = 0; t < 256; t++)
		if (types[t])
			v[n++] = (uint8_t)t;
	l4->n_types = n;
	l4->types = pc_arena_memdup(rs->arena, v, n);
}

/* A source that is everyone: no `from`, `from any`, or a /0 prefix. */
static bool any_source(bool have_from, const struct addracc *src)
{
	if (!have_from || src->any)
		return true;
	for (size_t i = 0; i < src->n; i++)
		if (src->v[i].plen == 0)
			return true;
	return false;
}

/* The catalogued traps an allowing rule opens; @anyone: from any source. */
static void warn_traps(struct resolver *rs, bool anyone)
{
	for (size_t i = 0; i < rs->n_traps; i++) {
		const struct pc_cat_record *r = rs->traps[i].rec;
		char what[96];

		if (rs->traps[i].port)
			snprintf(what, sizeof(what), "port '%s' (%s)", rs->traps[i].port, r->name);
		else
			snprintf(what, sizeof(what), "service '%s'", r->name);
		if (r->trap == PC_CAT_TRAP_EXPOSED)
			lint_warning(rs, &rs->traps[i].loc, "exposed-service",
				     "%s should not be exposed: %s; safer: %s",
				     what, r->description, r->safer);
		else if (r->trap == PC_CAT_TRAP_PUBLIC && anyone)
			lint_warning(rs, &rs->traps[i].loc, "exposed-service",
				     "%s is open to any source: %s; safer: %s",
				     what, r->description, r->safer);
	}
}

static void resolve_rule(struct resolver *rs, const struct pc_ast_stmt *s,
			 struct rulebuf *out)
{
	const struct pc_ast_rule *ar = &s->rule;
	struct pc_rule r;
	struct l4acc *acc = xzalloc(sizeof(*acc));
	struct addracc src, dst;
	struct pc_l4 l4[260];
	size_t n_l4 = 0;
	unsigned families = PC_FAM_ALL, sf, df;
	bool ok = true, have_icmp;
	const struct pc_location *fam_loc = &s->loc;

	memset(&r, 0, sizeof(r));
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.any = dst.any = false;
	r.origin = PC_ORIGIN_POLICY;
	r.loc = s->loc;
	r.verdict = ar->verdict;
	r.log = ar->log;
	r.log_prefix = ar->log_prefix;
	r.limit = ar->limit;
	r.comment = ar->comment;
	if (ar->iface) {
		size_t n = strlen(ar->iface);

		if (strcmp(ar->iface, "+") == 0) {
			pc_diag_error(rs->diag, &ar->iface_loc,
				      "interface name '+' is iptables' spelling of every interface: leave out 'on'");
			ok = false;
		} else if (n > 1 && ar->iface[n - 1] == '+') {
			/* iptables reads a trailing '+' as a wildcard, nft and pf
			 * as a letter of the name: one meaning, spelt one way */
			pc_diag_error(rs->diag, &ar->iface_loc,
				      "interface name '%s' ends in '+', which only iptables reads as a wildcard: write '%.*s*' for every interface whose name starts with '%.*s'",
				      ar->iface, (int)(n - 1), ar->iface, (int)(n - 1), ar->iface);
			ok = false;
		} else if (!valid_iface(ar->iface)) {
			pc_diag_error(rs->diag, &ar->iface_loc,
				      "bad interface name '%s' (1-15 characters: letters, digits, . _ - + @, or a prefix and '*')",
				      ar->iface);
			ok = false;
		}
		r.iface = ar->iface;
	}
	bool have_from = false, have_to = false;

	rs->n_traps = 0;
	for (size_t i = 0; i < ar->n_matches; i++) {
		const struct pc_ast_match *m = &ar->matches[i];

		switch (m->kind) {
		case PC_AST_MATCH_SERVICE:
		case PC_AST_MATCH_PORT:
		case PC_AST_MATCH_CLASS:
			acc->have_ports = true;
			if (!resolve_svc_items(rs, &m->list,
					       m->kind == PC_AST_MATCH_SERVICE ? PC_AST_HINT_SERVICE :
					       m->kind == PC_AST_MATCH_PORT ? PC_AST_HINT_PORT :
					       PC_AST_HINT_CLASS, 0, &acc->ports, 0))
				ok = false;
			break;
		case PC_AST_MATCH_PROTO:
			if (!resolve_proto(rs, &m->list, acc))
				ok = false;
			break;
		case PC_AST_MATCH_ICMP:
		case PC_AST_MATCH_ICMPV6:
			if (!resolve_icmp(rs, &m->list, m->kind == PC_AST_MATCH_ICMPV6, acc))
				ok = false;
			break;
		case PC_AST_MATCH_FROM:
			have_from = true;
			if (!resolve_addr_list(rs, &m->list, &src, 0))
				ok = false;
			fam_loc = &m->loc;
			break;
		case PC_AST_MATCH_TO:
			have_to = true;
			if (!resolve_addr_list(rs, &m->list, &dst, 0))
				ok = false;
			break;
		default:
			PC_BUG("match kind %d", m->kind);
		}
	}
	if (!ok)
		goto out;
	if (ar->verdict == PC_VERDICT_ALLOW && ar->dir != PC_DIR_OUT)
		warn_traps(rs, any_source(have_from, &src));

	/* protocol alternatives */
	have_icmp = acc->icmp_given[0] || acc->icmp_given[1];
	if (acc->proto_given && (acc->have_ports || have_icmp)) {
		/* proto narrows the other matches */
		if (acc->have_ports) {
			bool any_left = false;

			for (unsigned t = 0; t < N_TRANSPORTS; t++) {
				if (!acc->protos[pc_transport_proto(t)]) {
					acc->ports.n[t] = 0;
					acc->ports.any[t] = false;
				} else if (acc->ports.n[t]) {
					any_left = true;
				}
			}
			for (unsigned p = 0; p < 256; p++)
				if (acc->protos[p] && !pc_proto_has_ports(p) &&
				    !(p == PC_PROTO_ICMP && acc->icmp_given[0]) &&
				    !(p == PC_PROTO_ICMPV6 && acc->icmp_given[1])) {
					pc_diag_error(rs->diag, &s->loc,
						      "'proto %s' cannot be combined with ports",
						      pc_proto_name(p) ? pc_proto_name(p) : "?");
					ok = false;
				}
			if (ok && !any_left) {
				pc_diag_error(rs->diag, &s->loc,
					      "rule can never match: 'proto' excludes every transport of its ports");
				ok = false;
			}
		}
		if (acc->icmp_given[0] && !acc->protos[PC_PROTO_ICMP]) {
			pc_diag_error(rs->diag, &s->loc,
				      "rule can never match: 'icmp' with a proto other than icmp");
			ok = false;
		}
		if (acc->icmp_given[1] && !acc->protos[PC_PROTO_ICMPV6]) {
			pc_diag_error(rs->diag, &s->loc,
				      "rule can never match: 'icmpv6' with a proto other than icmpv6");
			ok = false;
		}
		if (!ok)
			goto out;
	}
	if (acc->have_ports) {
		for (unsigned t = 0; t < N_TRANSPORTS; t++)
			if (acc->ports.n[t])
				set_port_l4(rs, &l4[n_l4++], pc_transport_proto(t),
					    acc->ports.v[t], acc->ports.n[t], false);
	}
	if (acc->icmp_given[0])
		set_icmp_l4(rs, &l4[n_l4++], PC_PROTO_ICMP, acc->icmp_types[0], acc->icmp_any[0]);
	if (acc->icmp_given[1])
		set_icmp_l4(rs, &l4[n_l4++], PC_PROTO_ICMPV6, acc->icmp_types[1], acc->icmp_any[1]);
	if (acc->proto_given && !acc->have_ports && !have_icmp) {
		for (unsigned p = 0; p < 256; p++)
			if (acc->protos[p])
				set_port_l4(rs, &l4[n_l4++], p, NULL, 0, true);
	}
	qsort(l4, n_l4, sizeof(l4[0]), l4_cmp);

	/* families: ICMP and ICMPv6 pin one, addresses pin theirs */
	if (n_l4) {
		unsigned f = 0;

		for (size_t i = 0; i < n_l4; i++)
			f |= l4[i].proto == PC_PROTO_ICMP ? PC_FAM_IPV4 :
			     l4[i].proto == PC_PROTO_ICMPV6 ? PC_FAM_IPV6 : PC_FAM_ALL;
		families &= f;
	}
	sf = have_from ? addr_families(&src) : PC_FAM_ALL;
	df = have_to ? addr_families(&dst) : PC_FAM_ALL;
	if ((families & sf & df) == 0) {
		pc_diag_error(rs->diag, fam_loc,
			      "rule can never match: its matches are %s, its source addresses %s, its destination addresses %s",
			      fam_text(families), fam_text(sf), fam_text(df));
		ok = false;
		goto out;
	}
	families &= sf & df;
	/* drop ICMP alternatives of a family the rule cannot have */
	{
		size_t k = 0;

		for (size_t i = 0; i < n_l4; i++) {
			unsigned need = l4[i].proto == PC_PROTO_ICMP ? PC_FAM_IPV4 :
					l4[i].proto == PC_PROTO_ICMPV6 ? PC_FAM_IPV6 : 0;

			if (need && !(families & need)) {
				pc_diag_warning(rs->diag, &s->loc,
						"the %s match never applies: the rule's addresses are %s only",
						need == PC_FAM_IPV4 ? "icmp" : "icmpv6",
						fam_text(families));
				continue;
			}
			l4[k++] = l4[i];
		}
		n_l4 = k;
	}
	r.families = families;
	addr_finish(rs, &src, families, &r.saddr);
	addr_finish(rs, &dst, families, &r.daddr);
	src.v = dst.v = NULL;
	r.n_l4 = n_l4;
	r.l4 = pc_arena_memdup(rs->arena, l4, n_l4 * sizeof(l4[0]));
	out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = r;
out:
	free(src.v);
	free(dst.v);
	portacc_finish(&acc->ports);
	free(acc);
}

/* ---- built-in behaviour --------------------------------------------- */

static void push(struct rulebuf *b, const struct pc_rule *r)
{
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = *r;
}

static struct pc_rule builtin(enum pc_rule_origin origin, const struct pc_location *loc)
{
	struct pc_rule r;

	memset(&r, 0, sizeof(r));
	r.origin = origin;
	r.loc = *loc;
	r.verdict = PC_VERDICT_ALLOW;
	r.families = PC_FAM_ALL;
	return r;
}

static void add_builtins(struct resolver *rs, enum pc_direction dir, unsigned options,
			 const struct pc_location *opt_loc, struct rulebuf *b)
{
	static const uint8_t icmp4_err[] = { 3, 11, 12 };
	static const uint8_t icmp6_err[] = { 1, 2, 3, 4 };
	static const uint8_t icmp6_all[] = { 1, 2, 3, 4, 133, 134, 135, 136 };
	struct pc_location loc = { opt_loc[0].file, 0, 0, 0 };
	struct pc_rule r;

	if (!(options & PC_OPT_STATELESS)) {
		r = builtin(PC_ORIGIN_CONNTRACK, &loc);
		r.ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED;
		push(b, &r);
		r = builtin(PC_ORIGIN_CONNTRACK, &loc);
		r.ct_state = PC_CT_INVALID;
		r.verdict = PC_VERDICT_DENY;
		push(b, &r);
	}
	if (!(options & PC_OPT_FILTER_LOOPBACK) && dir != PC_DIR_FORWARD) {
		r = builtin(PC_ORIGIN_LOOPBACK, &loc);
		r.iface = "lo";
		push(b, &r);
	}
	if (!(options & PC_OPT_NO_ESSENTIAL_ICMP)) {
		struct pc_l4 *l4 = pc_arena_alloc(rs->arena, sizeof(*l4));

		r = builtin(PC_ORIGIN_ESSENTIAL_ICMP, &loc);
		r.families = PC_FAM_IPV4;
		l4->proto = PC_PROTO_ICMP;
		l4->n_types = sizeof(icmp4_err);
		l4->types = pc_arena_memdup(rs->arena, icmp4_err, sizeof(icmp4_err));
		r.n_l4 = 1;
		r.l4 = l4;
		push(b, &r);

		l4 = pc_arena_alloc(rs->arena, sizeof(*l4));
		r = builtin(PC_ORIGIN_ESSENTIAL_ICMP, &loc);
		r.families = PC_FAM_IPV6;
		l4->proto = PC_PROTO_ICMPV6;
		/* neighbour discovery and router adverts are link-local: never forwarded */
		if (dir == PC_DIR_FORWARD) {
			l4->n_types = sizeof(icmp6_err);
			l4->types = pc_arena_memdup(rs->arena, icmp6_err, sizeof(icmp6_err));
		} else {
			l4->n_types = sizeof(icmp6_all);
			l4->types = pc_arena_memdup(rs->arena, icmp6_all, sizeof(icmp6_all));
		}
		r.n_l4 = 1;
		r.l4 = l4;
		push(b, &r);
	}
}

/* ---- statements ----------------------------------------------------- */

/*
 * The words of nftables' scanner (src/scanner.l, v1.0.6) that nft 1.0.6
 * refuses as a table name in `table inet NAME` (each one tried with
 * `nft -c -f` on the generated file; tests/input/table-keywords.sh does it
 * again over the scanner's whole word list). Sorted for bsearch; nft's
 * keywords are case-sensitive, so `Counter` is a fine name.
 */
static const char *const nft_reserved[] = {
	"accept", "add", "ah", "all", "and", "arp",
	"auto-merge", "bridge", "cgroup", "chain", "comment", "comp",
	"constant", "continue", "counter", "cpu", "create", "ct",
	"day", "dccp", "define", "delete", "describe", "device",
	"devices", "dnat", "drop", "dst", "dup", "dynamic",
	"ecn", "element", "elements", "eq", "esp", "ether",
	"exists", "expires", "export", "exthdr", "fib", "flags",
	"flow", "flowtable", "flush", "frag", "fwd", "gc-interval",
	"ge", "get", "goto", "gt", "handle", "hbh",
	"hook", "hour", "ibriport", "ibrname", "icmp", "icmpv6",
	"igmp", "iif", "iifgroup", "iifname", "iiftype", "import",
	"include", "index", "inet", "insert", "interval", "ip",
	"ip6", "ipsec", "jhash", "jump", "le", "limit",
	"list", "log", "lshift", "lt", "map", "mark",
	"masquerade", "meta", "meter", "mh", "missing", "monitor",
	"ne", "netdev", "nftrace", "not", "notrack", "numgen",
	"obriport", "obrname", "offload", "oif", "oifgroup", "oifname",
	"oiftype", "or", "osf", "pkttype", "policy", "position",
	"priority", "queue", "quota", "random", "redefine", "redirect",
	"reject", "rename", "replace", "reset", "return", "rshift",
	"rt", "rt0", "rt2", "rtclassid", "rule", "ruleset",
	"sctp", "secmark", "set", "size", "skgid", "skuid",
	"snat", "socket", "srh", "symhash", "synproxy", "table",
	"tcp", "th", "time", "timeout", "tproxy", "type",
	"typeof", "udp", "udplite", "undefine", "update", "vlan",
	"vmap", "xor", "xt",
};

static int str_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool nft_reserved_word(const char *s)
{
	return bsearch(s, nft_reserved, PC_ARRAY_SIZE(nft_reserved), sizeof(nft_reserved[0]),
		       str_cmp) != NULL;
}

static bool valid_table_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 20 || !isalpha((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void define_group(struct resolver *rs, const struct pc_ast_stmt *s)
{
	struct group *g = find_group(rs, s->name);

	if (g) {
		pc_diag_error(rs->diag, &s->name_loc, "group '%s' defined twice (first at %s:%u)",
			      s->name, g->stmt->name_loc.file, g->stmt->name_loc.line);
		return;
	}
	if (!isalpha((unsigned char)s->name[0]) && s->name[0] != '_') {
		pc_diag_error(rs->diag, &s->name_loc, "bad group name '%s'", s->name);
		return;
	}
	rs->groups = xgrow(rs->groups, &rs->cap_groups, rs->n_groups + 1, sizeof(*rs->groups));
	g = &rs->groups[rs->n_groups++];
	memset(g, 0, sizeof(*g));
	g->name = s->name;
	g->kind = s->kind;
	g->stmt = s;
	index_group(rs);
	/* resolve now, so errors inside a group show even when it is unused */
	if (s->kind == PC_AST_HOSTS) {
		resolve_hosts_group(rs, g, &s->name_loc, 0);
	} else {
		size_t before = pc_diag_count(rs->diag, PC_SEV_ERROR);

		struct portacc pa;
		struct pc_ast_item ref;

		memset(&pa, 0, sizeof(pa));
		memset(&ref, 0, sizeof(ref));
		ref.kind = PC_AST_VAR;
		ref.text = s->name;
		ref.loc = s->name_loc;
		resolve_svc_item(rs, &ref, PC_AST_HINT_SERVICE, 0, &pa, 0);
		portacc_finish(&pa);
		g->bad = pc_diag_count(rs->diag, PC_SEV_ERROR) > before;
	}
	g->used = false;
}

static struct pc_ir *ir_create(struct pc_arena *arena)
{
	struct pc_ir *ir = xzalloc(sizeof(*ir));

	ir->arena = arena;
	return ir;
}

struct pc_ir *pc_resolve(struct pc_ast *ast, struct pc_arena *arena,
			 const struct pc_registry *reg, bool lint,
			 struct pc_diag *diag)
{
	struct resolver rs;
	struct pc_ir *ir;
	struct rulebuf rules[__PC_DIR_MAX];
	struct {
		bool set;
		enum pc_verdict v;
		struct pc_location loc;
	} defaults[__PC_DIR_MAX];
	unsigned options = 0;
	const struct pc_ast_stmt *table_stmt = NULL, *transports_stmt = NULL;
	struct pc_location opt_loc[1] = { { ast->top_file, 0, 0, 0 } };
	static const enum pc_verdict default_of_defaults[] = {
		[PC_DIR_IN] = PC_VERDICT_DENY,
		[PC_DIR_OUT] = PC_VERDICT_ALLOW,
		[PC_DIR_FORWARD] = PC_VERDICT_DENY,
	};

	memset(&rs, 0, sizeof(rs));
	memset(rules, 0, sizeof(rules));
	memset(defaults, 0, sizeof(defaults));
	rs.reg = reg;
	rs.cat = pc_registry_catalog(reg);
	rs.diag = diag;
	rs.arena = arena;
	rs.lint = lint;
	rs.transports = 1u << PC_TRANSPORT_TCP | 1u << PC_TRANSPORT_UDP;
	rs.suggestions_left = 10;

	for (size_t i = 0; i < ast->n; i++) {
		const struct pc_ast_stmt *s = ast->stmts[i];

		if (pc_diag_full(diag))
			break;
		switch (s->kind) {
		case PC_AST_TABLE:
			if (table_stmt) {
				pc_diag_error(diag, &s->loc, "table set twice (first at %s:%u)",
					      table_stmt->loc.file, table_stmt->loc.line);
			} else if (!valid_table_name(s->name)) {
				pc_diag_error(diag, &s->name_loc,
					      "bad table name '%s' (a letter, then letters, digits, _ or -; at most 20)",
					      s->name);
			} else if (nft_reserved_word(s->name)) {
				pc_diag_error(diag, &s->name_loc,
					      "table name '%s' is an nft keyword, which nft refuses as a table name: choose another name",
					      s->name);
			} else {
				table_stmt = s;
			}
			break;
		case PC_AST_TRANSPORTS: {
			unsigned mask = 0;
			bool ok = true;

			if (s->list.suffix)
				ok = false;
			for (size_t j = 0; j < s->list.n; j++) {
				const struct pc_ast_item *it = &s->list.v[j];
				int t = it->kind == PC_AST_WORD && !it->suffix ?
					pc_transport_parse(it->text) : -1;

				if (t < 0) {
					pc_diag_error(diag, &it->loc,
						      "unknown transport '%s' (expected tcp, udp, sctp or dccp)",
						      it->text);
					ok = false;
					continue;
				}
				mask |= 1u << t;
			}
			if (transports_stmt)
				pc_diag_warning(diag, &s->loc,
						"transports set again (was set at %s:%u); applies to the rules below",
						transports_stmt->loc.file, transports_stmt->loc.line);
			transports_stmt = s;
			if (ok && mask) {
				rs.transports = mask;
				rs.transports_set = true;
			}
			break;
		}
		case PC_AST_HOSTS:
		case PC_AST_SERVICES:
			define_group(&rs, s);
			break;
		case PC_AST_DEFAULT:
			if (defaults[s->dir].set) {
				pc_diag_error(diag, &s->loc, "default %s set twice (first at %s:%u)",
					      pc_direction_name(s->dir), defaults[s->dir].loc.file,
					      defaults[s->dir].loc.line);
				break;
			}
			defaults[s->dir].set = true;
			defaults[s->dir].v = s->verdict;
			defaults[s->dir].loc = s->loc;
			break;
		case PC_AST_OPTION:
			if (strcmp(s->name, "stateless") == 0)
				options |= PC_OPT_STATELESS;
			else if (strcmp(s->name, "filter-loopback") == 0)
				options |= PC_OPT_FILTER_LOOPBACK;
			else if (strcmp(s->name, "no-essential-icmp") == 0)
				options |= PC_OPT_NO_ESSENTIAL_ICMP;
			else
				pc_diag_error(diag, &s->name_loc,
					      "unknown option '%s' (expected stateless, filter-loopback or no-essential-icmp)",
					      s->name);
			break;
		case PC_AST_RULE:
			resolve_rule(&rs, s, &rules[s->rule.dir]);
			break;
		default:
			PC_BUG("statement kind %d", s->kind);
		}
	}
	if (lint)
		for (size_t i = 0; i < rs.n_groups; i++)
			if (!rs.groups[i].used)
				pc_diag_warning(diag, &rs.groups[i].stmt->name_loc,
						"group '%s' is never used", rs.groups[i].name);

	ir = NULL;
	if (pc_diag_has_errors(diag))
		goto out;

	ir = ir_create(arena);
	ir->table = table_stmt ? table_stmt->name : "portcullis";
	ir->policy_file = ast->top_file;
	ir->options = options;
	/* the file name only: generated output must not depend on where the
	 * registry happens to be installed or checked out */
	{
		const char *src = pc_registry_source(reg), *slash = strrchr(src, '/');

		ir->registry_name = pc_arena_strdup(arena, slash ? slash + 1 : src);
	}
	ir->registry_date = pc_arena_strdup(arena, pc_registry_date(reg));
	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		struct pc_chain *c = &ir->chains[d];
		struct rulebuf b;

		memset(&b, 0, sizeof(b));
		c->dir = (enum pc_direction)d;
		c->policy = defaults[d].set ? defaults[d].v : default_of_defaults[d];
		c->policy_loc = defaults[d].set ? defaults[d].loc : opt_loc[0];
		add_builtins(&rs, c->dir, options, opt_loc, &b);
		if (c->policy == PC_VERDICT_REJECT) {
			struct pc_rule r = builtin(PC_ORIGIN_DEFAULT, &c->policy_loc);

			r.verdict = PC_VERDICT_REJECT;
			push(&rules[d], &r);
			c->policy = PC_VERDICT_DENY;
		}
		/* one copy into the IR: built-ins first, then the policy's rules */
		c->n = b.n + rules[d].n;
		c->rules = pc_arena_alloc(arena, c->n * sizeof(*c->rules));
		if (b.n)
			memcpy(c->rules, b.v, b.n * sizeof(*b.v));
		if (rules[d].n)
			memcpy(c->rules + b.n, rules[d].v, rules[d].n * sizeof(*b.v));
		free(b.v);
	}
out:
	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		free(rules[d].v);
	for (size_t i = 0; i < rs.n_groups; i++)
		free(rs.groups[i].exp);
	free(rs.groups);
	free(rs.index);
	if (!ir)
		pc_arena_destroy(arena);
	else if (lint)
		pc_lint_shadowing(ir, diag);
	return ir;
}
