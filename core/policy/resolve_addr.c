/* SPDX-License-Identifier: MIT */
/*
 * Resolving addresses (literals, hosts groups, IPv4-mapped ones), ICMP types
 * and protocols.
 */
#include "policy/resolve_internal.h"

#include "ir/addrrange.h"

void addracc_free(struct addracc *aa)
{
	if (!aa->borrowed)
		free(aa->v);
	aa->v = NULL;
	aa->n = aa->cap = 0;
	aa->borrowed = false;
}

/* A borrowed group's prefixes become a copy of @aa's own, to add to. */
static void addr_own(struct addracc *aa)
{
	struct pc_addr *v = aa->v;

	if (!aa->borrowed)
		return;
	aa->v = NULL;
	aa->cap = 0;
	aa->borrowed = false;
	aa->v = xgrow(aa->v, &aa->cap, aa->n, sizeof(*aa->v));
	memcpy(aa->v, v, aa->n * sizeof(*aa->v));
}

static void addr_push(struct addracc *aa, const struct pc_addr *a)
{
	addr_own(aa);
	aa->v = xgrow(aa->v, &aa->cap, aa->n + 1, sizeof(*aa->v));
	aa->v[aa->n++] = *a;
}

static void range_push(void *ctx, const struct pc_addr *a)
{
	addr_push(ctx, a);
}

bool resolve_hosts_group(struct resolver *rs, struct group *g,
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
	if (g->stmt->hosts_dynamic) {
		g->dynamic = true;
		g->resolved = true;
		return true;
	}
	memset(&sub, 0, sizeof(sub));
	g->resolving = true;
	if (g->stmt->hosts_file)
		ok = resolve_hosts_file(rs, g->stmt, &sub);
	else
		ok = resolve_addr_list(rs, &g->stmt->list, &sub, depth + 1);
	g->resolving = false;
	if (!ok) {
		addracc_free(&sub);
		g->bad = true;
		return false;
	}
	g->resolved = true;
	g->any = sub.any;
	/* a group that is another group (`hosts b = { $a }`) shares its prefixes */
	if (sub.borrowed) {
		g->addrs = sub.v;
		g->n_addrs = sub.n;
		return true;
	}
	/* kept merged: a group made of other groups holds each address once,
	 * so nesting costs what the text costs, not what it would expand to */
	{
		struct pc_addr_set set = { NULL, sub.n, sub.v };

		pc_addr_set_normalize(&set);
		g->n_addrs = set.n;
	}
	g->addrs = pc_arena_memdup(rs->arena, sub.v, g->n_addrs * sizeof(*sub.v));
	addracc_free(&sub);
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

bool resolve_addr_list(struct resolver *rs, const struct pc_ast_list *l,
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
			if (g->dynamic) {
				/* one kernel set per match: its elements cannot
				 * be merged with others at load time */
				if (l->n != 1 || depth > 0) {
					pc_diag_error(rs->diag, &it->loc,
						      "dynamic set '$%s' cannot be listed with other addresses or inside a group: match it on its own (from $%s)",
						      it->text, it->text);
					ok = false;
					continue;
				}
				aa->name = g->name;
				aa->group = g;
				aa->dynamic = true;
				continue;
			}
			if (!aa->id)
				aa->id = ++rs->next_id;
			if (l->n == 1) {
				aa->name = g->name;
				aa->group = g;
				aa->name_loc = &g->stmt->name_loc;
			}
			/* a group listed twice in one place adds nothing the second time */
			if (g->last_id == aa->id)
				continue;
			g->last_id = aa->id;
			aa->any |= g->any;
			/* the group alone so far: its prefixes, not a copy */
			if (g->n_addrs == 0)
				continue;
			if (aa->n == 0 && !aa->borrowed) {
				free(aa->v);
				aa->v = g->addrs;
				aa->n = g->n_addrs;
				aa->cap = 0;
				aa->borrowed = true;
				continue;
			}
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
		if (!it->suffix && strchr(it->text, '-')) {
			struct pc_addr hi;
			bool is_range;

			/* sets: 192.0.2.10-192.0.2.20, as the prefixes covering it */
			if (pc_addr_range_parse(it->text, &a, &hi, &is_range, err, sizeof(err))) {
				if (v4_mapped(&a) || v4_mapped(&hi)) {
					pc_diag_error(rs->diag, &it->loc,
						      "'%s' holds IPv4-mapped IPv6 addresses, which no IPv4 packet carries: write IPv4 addresses",
						      it->text);
					ok = false;
					continue;
				}
				pc_addr_range_cover(&a, &hi, range_push, aa);
				continue;
			}
			if (is_range) {
				pc_diag_error(rs->diag, &it->loc, "%s", err);
				ok = false;
				continue;
			}
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

unsigned addr_families(const struct addracc *aa)
{
	unsigned f = 0;

	if (aa->any || aa->dynamic)
		return PC_FAM_ALL;
	for (size_t i = 0; i < aa->n; i++)
		f |= aa->v[i].family;
	return f;
}

static uint64_t addrs_hash(const struct pc_addr *v, size_t n)
{
	const uint8_t *p = (const uint8_t *)v;
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */

	for (size_t i = 0; i < n * sizeof(*v); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The IR's list equal to @v[0..n): an earlier rule's, or a new copy. */
static struct pc_addr *addrs_intern(struct resolver *rs, struct pc_addr *v, size_t n,
				    bool copy)
{
	uint64_t h = addrs_hash(v, n);
	size_t mask, i;

	if (2 * (rs->addr_sets_n + 1) > rs->addr_sets_cap) {
		struct addr_shared *old = rs->addr_sets;
		size_t old_cap = rs->addr_sets_cap;

		rs->addr_sets_cap = old_cap ? 2 * old_cap : 256;
		rs->addr_sets = xcalloc(rs->addr_sets_cap, sizeof(*rs->addr_sets));
		for (size_t k = 0; k < old_cap; k++) {
			if (!old[k].v)
				continue;
			for (i = old[k].hash & (rs->addr_sets_cap - 1); rs->addr_sets[i].v;
			     i = (i + 1) & (rs->addr_sets_cap - 1))
				;
			rs->addr_sets[i] = old[k];
		}
		free(old);
	}
	mask = rs->addr_sets_cap - 1;
	for (i = h & mask; rs->addr_sets[i].v; i = (i + 1) & mask) {
		const struct addr_shared *e = &rs->addr_sets[i];

		if (e->hash == h && e->n == n && memcmp(e->v, v, n * sizeof(*v)) == 0)
			return e->v;
	}
	rs->addr_sets[i].hash = h;
	rs->addr_sets[i].n = n;
	rs->addr_sets[i].v = copy ? pc_arena_memdup(rs->arena, v, n * sizeof(*v)) : v;
	rs->addr_sets_n++;
	return rs->addr_sets[i].v;
}

/* @v's content, shared: a copy in the arena, or the list of equal content
 * already there. */
static struct pc_addr *addrs_shared(struct resolver *rs, struct pc_addr *v, size_t n)
{
	return addrs_intern(rs, v, n, true);
}

/* The IR's copy of the group name of @aa. */
static const char *group_name(struct resolver *rs, const struct addracc *aa)
{
	if (!aa->group)
		return pc_arena_strdup(rs->arena, aa->name);
	if (!aa->group->ir_name)
		aa->group->ir_name = pc_arena_strdup(rs->arena, aa->name);
	return aa->group->ir_name;
}

/*
 * The address set of a rule from @aa (which it frees). Rules with equal
 * lists share one (backends and passes only read them).
 */
void addr_finish(struct resolver *rs, struct addracc *aa, unsigned families,
		 struct pc_addr_set *out)
{
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (aa->dynamic) {
		out->name = group_name(rs, aa);
		addracc_free(aa);
		return;
	}
	if (aa->any || aa->n == 0) {
		addracc_free(aa);
		return;
	}
	for (size_t i = 0; i < aa->n; i++)
		if (families & aa->v[i].family)
			k++;
	if (k < aa->n) {
		addr_own(aa);
		k = 0;
		for (size_t i = 0; i < aa->n; i++)
			if (families & aa->v[i].family)
				aa->v[k++] = aa->v[i];
	}
	out->n = k;
	out->name = aa->name && k == aa->n ? group_name(rs, aa) : NULL;
	if (out->name)
		out->loc = *aa->name_loc;
	out->v = aa->v;
	if (!aa->borrowed) {
		/* rules with equal lists share one copy in the arena */
		pc_addr_set_normalize(out);
		out->v = addrs_shared(rs, out->v, out->n);
	} else {
		/* a group's prefixes, whole, are normal already and live in
		 * the arena as long as the rule: shared as they are */
		out->v = addrs_intern(rs, out->v, out->n, false);
	}
	addracc_free(aa);
}

/* ---- rules ---------------------------------------------------------- */

bool resolve_icmp(struct resolver *rs, const struct pc_ast_list *l, bool v6,
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

bool resolve_proto(struct resolver *rs, const struct pc_ast_list *l,
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
