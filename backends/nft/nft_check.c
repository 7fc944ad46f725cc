/* SPDX-License-Identifier: MIT */
/*
 * What nftables can take of a policy (names, strings, interfaces), checked
 * before lowering, and the comment text each nft rule carries.
 */
#include "backends/nft/nft_check.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/names.h"
#include "common/util.h"

/* nft's identifier syntax, which set and table names must follow. */
bool pc_nft_identifier_ok(const char *s)
{
	if (!s || !*s || strlen(s) > PC_NFT_NAME_MAX)
		return false;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      *p == '-'))
			return false;
	return true;
}

/*
 * nft's quoted strings have no escapes: a '"' ends them and nft reads
 * control characters literally into the ruleset. Such strings are refused.
 */
static bool check_string(const char *s, size_t max, const char *what,
			 const struct pc_location *loc, struct pc_diag *diag)
{
	const unsigned char *p;
	size_t len;

	/* one pass for the bytes and the length (each comment of a ruleset passes here) */
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p < 0x20 || *p == 0x7f) {
			pc_diag_error(diag, loc,
				      "nft: a %s cannot contain %s",
				      what, *p == '"' ? "a double quote" :
				      "a control character");
			return false;
		}
	}
	len = (size_t)((const char *)p - s);
	if (len > max) {
		pc_diag_error(diag, loc,
			      "nft: the %s \"%.20s...\" is %zu bytes long, nftables allows at most %zu",
			      what, s, len, max);
		return false;
	}
	return true;
}

/*
 * Where a built-in rule comes from, spelled as the iptables and pf comments
 * spell it (pc_origin_name(); "default in deny" for a chain's default), into
 * @out; "" for a policy rule.
 */
static void origin_label(const struct pc_rule *r, enum pc_direction dir,
			 char *out, size_t size)
{
	const char *name = pc_origin_name(r->origin);

	if (r->origin == PC_ORIGIN_DEFAULT)
		snprintf(out, size, "default %s %s", pc_direction_name(dir),
			 pc_verdict_name(r->verdict));
	else if (!name)
		out[0] = '\0';		/* a policy rule: the common case, no snprintf */
	else
		snprintf(out, size, "%s", name);
}

/* Appends @s to @buf (of @size bytes) at *len, truncating; keeps it terminated. */
static void cat(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= size)
		n = *len < size - 1 ? size - 1 - *len : 0;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* "FILE:LINE" ("FILE" without a line, "" without a file) at *len of @buf. */
static void loc_cat(char *buf, size_t size, size_t *len, const struct pc_location *loc)
{
	char num[16];
	char *p = num + sizeof(num) - 1;
	unsigned v = loc->line;

	if (!loc->file)
		return;
	cat(buf, size, len, loc->file);
	if (!loc->line)
		return;
	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	*--p = ':';
	cat(buf, size, len, p);
}

/* "FILE:LINE[ LABEL][ COMMENT]" into @buf, for rule @r of chain @dir. */
void pc_nft_rule_comment(const struct pc_rule *r, enum pc_direction dir,
			 char *buf, size_t size)
{
	char label[64];
	size_t len = 0;

	origin_label(r, dir, label, sizeof(label));

	buf[0] = '\0';
	/* a built-in rule of an IR made without a file, as iptables says it */
	if (!r->loc.file && r->origin != PC_ORIGIN_POLICY)
		cat(buf, size, &len, "built-in");
	loc_cat(buf, size, &len, &r->loc);
	if (r->n_map)
		snprintf(label, sizeof(label), "verdict map");
	if (*label) {
		if (len)
			cat(buf, size, &len, " ");
		cat(buf, size, &len, label);
	}
	if (r->comment && *r->comment) {
		if (len)
			cat(buf, size, &len, " ");
		cat(buf, size, &len, r->comment);
	}
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool pc_nft_elem_same_comment(const struct pc_map_elem *a, const struct pc_map_elem *b)
{
	/* what pc_nft_elem_comment() reads */
	const struct pc_location *la = pc_map_elem_loc(a), *lb = pc_map_elem_loc(b);

	return a->rule == b->rule ||
	       (la->line == lb->line && same_string(la->file, lb->file) &&
		same_string(pc_map_elem_comment(a), pc_map_elem_comment(b)));
}

/*
 * What pc_nft_rule_comment() makes of a policy rule with @e's location and
 * comment (no label), without building a rule: the text writes one per
 * verdict-map element (issue 15: 10 % of generate's instructions).
 */
void pc_nft_elem_comment_buf(const struct pc_map_elem *e, char *buf, size_t size)
{
	size_t len = 0;

	const char *comment = pc_map_elem_comment(e);

	buf[0] = '\0';
	loc_cat(buf, size, &len, pc_map_elem_loc(e));
	if (comment && *comment) {
		if (len)
			cat(buf, size, &len, " ");
		cat(buf, size, &len, comment);
	}
}

/* "FILE:LINE[ COMMENT]" of a map element's rule. */
char *pc_nft_elem_comment(const struct pc_map_elem *e)
{
	char buf[PC_NFT_COMMENT_BUF];

	pc_nft_elem_comment_buf(e, buf, sizeof(buf));
	return xstrdup(buf);
}

static bool check_ifname(const char *name, const struct pc_rule *r,
			 struct pc_diag *diag)
{
	if (!check_string(name, PC_NFT_IFNAME_MAX, "interface name", &r->loc, diag))
		return false;
	if (!name[0] || strcmp(name, "*") == 0) {
		pc_diag_error(diag, &r->loc,
			      "nft: interface name '%s' names no interface (leave out `on` for any)",
			      name);
		return false;
	}
	return true;
}

bool pc_nft_check_rule(const struct pc_rule *r, const char *comment,
		       struct pc_diag *diag)
{
	bool ok = true;

	for (size_t i = 0; i < r->n_map; i++) {
		char c[PC_NFT_COMMENT_BUF];

		/* the elements of one policy rule follow each other: one check
		 * for all of them once it passed (a failure is told per element) */
		if (i && ok && pc_nft_elem_same_comment(&r->map[i - 1], &r->map[i]))
			continue;
		pc_nft_elem_comment_buf(&r->map[i], c, sizeof(c));
		if (!check_string(c, PC_NFT_COMMENT_MAX, "rule comment (location and comment text)",
				  pc_map_elem_loc(&r->map[i]), diag))
			ok = false;
	}
	if (r->iface && !check_ifname(r->iface, r, diag))
		ok = false;
	for (size_t i = 0; i < r->n_ifaces; i++)
		if (!check_ifname(r->ifaces[i], r, diag))
			ok = false;
	for (size_t i = 0; i < r->n_oifaces; i++)
		if (!check_ifname(r->oifaces[i], r, diag))
			ok = false;
	if (r->log_prefix &&
	    !check_string(r->log_prefix, PC_NFT_LOG_PREFIX_MAX, "log prefix",
			  &r->loc, diag))
		ok = false;
	if (!check_string(comment, PC_NFT_COMMENT_MAX, "rule comment (location and comment text)",
			  &r->loc, diag))
		ok = false;
	return ok;
}

bool pc_nft_check_table(const struct pc_ir *ir, struct pc_diag *diag)
{
	struct pc_location loc = { .file = ir->policy_file };

	if (pc_nft_identifier_ok(ir->table))
		return true;
	pc_diag_error(diag, &loc,
		      "nft: table name '%s' is not an nft identifier (a letter or '_', then letters, digits, '_', '.', '-'; at most %d bytes)",
		      ir->table ? ir->table : "", PC_NFT_NAME_MAX);
	return false;
}

int pc_nft_check(const struct pc_ir *ir, struct pc_diag *diag)
{
	bool ok = pc_nft_check_table(ir, diag);

	for (size_t d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *ch = &ir->chains[d];

		for (size_t i = 0; i < ch->n; i++) {
			char comment[PC_NFT_COMMENT_BUF];

			pc_nft_rule_comment(&ch->rules[i], (enum pc_direction)d, comment, sizeof(comment));
			if (!pc_nft_check_rule(&ch->rules[i], comment, diag))
				ok = false;
		}
	}
	return ok ? 0 : -1;
}
