/* SPDX-License-Identifier: MIT */
/*
 * Resolving services: names through the registry and catalog, port numbers
 * and ranges, services groups, the traps they open.
 */
#include "policy/resolve_internal.h"

static size_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (size_t)h;
}

struct group *find_group(struct resolver *rs, const char *name)
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
void index_group(struct resolver *rs)
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

const char *fam_text(unsigned f)
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

void portacc_finish(struct portacc *pa)
{
	for (unsigned t = 0; t < N_TRANSPORTS; t++)
		free(pa->v[t]);
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
		const char *colon = strchr(s, ':');

		/* habits (issue 14): iptables writes a range 1714:1764 */
		if (colon && colon > s && colon[1] && !strchr(colon + 1, ':') &&
		    strspn(s, "0123456789") == (size_t)(colon - s) && pc_all_digits(colon + 1)) {
			pc_diag_error(rs->diag, &it->loc,
				      "'%s' is iptables' spelling of a port range: write %.*s-%s",
				      s, (int)(colon - s), s, colon + 1);
			return -1;
		}
		if (!pc_all_digits(s))
			return 0;
		if (strlen(s) > 5 || (x = strtoul(s, NULL, 10)) > 65535) {
			pc_diag_error(rs->diag, &it->loc, "port %s out of range 0-65535", s);
			return -1;
		}
		*lo = *hi = (uint16_t)x;
		return 1;
	}
	if ((size_t)(dash - s) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return pc_all_digits(dash + 1) ? (pc_diag_error(rs->diag, &it->loc,
				"port range %s out of range 0-65535", s), -1) : 0;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	strcpy(b, dash + 1);
	if (!pc_all_digits(a) || !pc_all_digits(b))
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
void lint_warning(struct resolver *rs, const struct pc_location *loc,
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

bool resolve_svc_item(struct resolver *rs, const struct pc_ast_item *it,
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

bool resolve_svc_items(struct resolver *rs, const struct pc_ast_list *l,
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
