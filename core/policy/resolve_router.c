/* SPDX-License-Identifier: MIT */
/*
 * The router half of the language (issue 13): interface lists of `on` and
 * `out on`.
 */
#include "policy/resolve_internal.h"

/* One interface of a list: reports and returns false when it is not one. */
static bool iface_ok(struct resolver *rs, const struct pc_ast_item *it)
{
	const char *name = it->text;
	size_t n = strlen(name);

	if (it->kind == PC_AST_VAR) {
		pc_diag_error(rs->diag, &it->loc,
			      "an interface list takes names, not $groups: write the interfaces in { }");
		return false;
	}
	if (it->suffix) {
		pc_diag_error(rs->diag, &it->suffix_loc,
			      "bad interface name '%s/%s'", name, it->suffix);
		return false;
	}
	if (strcmp(name, "+") == 0) {
		pc_diag_error(rs->diag, &it->loc,
			      "interface name '+' is iptables' spelling of every interface: leave out 'on'");
		return false;
	}
	if (n > 1 && name[n - 1] == '+') {
		/* iptables reads a trailing '+' as a wildcard, nft and pf as a
		 * letter of the name: one meaning, spelt one way */
		pc_diag_error(rs->diag, &it->loc,
			      "interface name '%s' ends in '+', which only iptables reads as a wildcard: write '%.*s*' for every interface whose name starts with '%.*s'",
			      name, (int)(n - 1), name, (int)(n - 1), name);
		return false;
	}
	if (!pc_iface_name_valid(name)) {
		pc_diag_error(rs->diag, &it->loc,
			      "bad interface name '%s' (1-15 characters: letters, digits, . _ - + @, or a prefix and '*')",
			      name);
		return false;
	}
	return true;
}

bool resolve_ifaces(struct resolver *rs, const struct pc_ast_list *l,
		    size_t *n_out, const char *const **out)
{
	const char **v;
	size_t n = 0;
	bool ok = true;

	*n_out = 0;
	*out = NULL;
	if (l->n == 0)
		return true;
	if (l->suffix) {
		pc_diag_error(rs->diag, &l->suffix_loc,
			      "an interface list takes no '/%s'", l->suffix);
		return false;
	}
	v = pc_arena_alloc(rs->arena, l->n * sizeof(*v));
	for (size_t i = 0; i < l->n; i++) {
		bool dup = false;

		if (!iface_ok(rs, &l->v[i])) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (strcmp(v[j], l->v[i].text) == 0)
				dup = true;
		if (dup) {
			lint_warning(rs, &l->v[i].loc, "duplicate-interface",
				     "interface '%s' is listed twice", l->v[i].text);
			continue;
		}
		v[n++] = l->v[i].text;
	}
	*n_out = n;
	*out = v;
	return ok;
}
