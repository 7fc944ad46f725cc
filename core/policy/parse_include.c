/* SPDX-License-Identifier: MIT */
/*
 * The parser's include statement: what a policy may include, and the
 * include cache that parses a file included under the same name once per
 * run (parser_internal.h).
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/parser_internal.h"

/* True when @real is @dir or lies below it. */
static bool under(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/*
 * What an include may read, checked on the resolved path so that a
 * symlink cannot lead around it. Reports and returns false otherwise.
 */
static bool include_allowed(struct parser *ps, const struct pc_location *loc,
			    const char *path, const char *real)
{
	static const char *const kernel_dirs[] = { "/proc", "/sys", "/dev" };
	const struct pc_ast *ast = ps->ast;
	struct stat st;

	/* kernel interfaces: endless, changing or with side effects on read */
	for (size_t i = 0; i < PC_ARRAY_SIZE(kernel_dirs); i++)
		if (under(real, kernel_dirs[i])) {
			perror_at(ps, loc, "cannot include '%s': files under %s are not policies",
				  path, kernel_dirs[i]);
			return false;
		}
	/* a device or FIFO could be endless: only regular files */
	if (stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
		perror_at(ps, loc, "cannot include '%s': not a regular file", path);
		return false;
	}
	for (size_t i = 0; i < ps->depth; i++) {
		struct pc_buf b;

		if (strcmp(ps->stack[i].real, real) != 0)
			continue;
		pc_buf_init(&b);
		for (size_t j = i; j < ps->depth; j++)
			pc_buf_printf(&b, "%s -> ", ps->stack[j].name);
		pc_buf_puts(&b, path);
		perror_at(ps, loc, "include cycle: %s", b.data);
		pc_buf_finish(&b);
		return false;
	}
	/* twice would define its groups twice or repeat its rules, and
	 * include diamonds would multiply the work: once only */
	for (size_t i = 0; i < ast->n_included; i++)
		if (strcmp(ast->included[i].real, real) == 0) {
			perror_at(ps, loc, "'%s' is already included (at %s:%u)", path,
				  ast->included[i].loc.file, ast->included[i].loc.line);
			return false;
		}
	if (ps->depth >= PC_MAX_INCLUDE_DEPTH) {
		perror_at(ps, loc, "includes nested more than %d deep", PC_MAX_INCLUDE_DEPTH);
		return false;
	}
	if (ast->n_included >= PC_MAX_INCLUDES) {
		perror_at(ps, loc, "more than %d files included", PC_MAX_INCLUDES);
		return false;
	}
	return true;
}

static struct cached_include *cache_find(const struct pc_include_cache *c,
					 const char *name, const char *real)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ent[i].name, name) == 0 && strcmp(c->ent[i].real, real) == 0)
			return &c->ent[i];
	return NULL;
}

/*
 * Adds what a fresh parse of @e would add, when that parse would report
 * nothing: none of its nested files on the include stack (a cycle) or
 * already included, and the depth, count and size limits kept. Returns
 * false, changing nothing, otherwise: the file is then parsed afresh and
 * reports what it reports.
 */
static bool splice_cached(struct parser *ps, const struct cached_include *e,
			  const struct pc_location *loc)
{
	struct pc_ast *ast = ps->ast;
	size_t depth = ps->depth + 1;

	if (e->height && depth + e->height > PC_MAX_INCLUDE_DEPTH)
		return false;
	if (ast->n_included + 1 + e->n_nested > PC_MAX_INCLUDES ||
	    ast->included_bytes + e->bytes > PC_MAX_INCLUDE_BYTES)
		return false;
	for (size_t k = 0; k < e->n_nested; k++) {
		for (size_t i = 0; i < ps->depth; i++)
			if (strcmp(ps->stack[i].real, e->nested[k].real) == 0)
				return false;
		for (size_t i = 0; i < ast->n_included; i++)
			if (strcmp(ast->included[i].real, e->nested[k].real) == 0)
				return false;
	}
	ast->included = xgrow(ast->included, &ast->cap_included,
			      ast->n_included + 1 + e->n_nested, sizeof(*ast->included));
	ast->included[ast->n_included].real = e->real;
	ast->included[ast->n_included].loc = *loc;
	ast->n_included++;
	memcpy(&ast->included[ast->n_included], e->nested, e->n_nested * sizeof(*e->nested));
	ast->n_included += e->n_nested;
	ast->included_bytes += e->bytes;
	ast->stmts = xgrow(ast->stmts, &ast->cap, ast->n + e->n_stmts, sizeof(*ast->stmts));
	memcpy(&ast->stmts[ast->n], e->stmts, e->n_stmts * sizeof(*e->stmts));
	ast->n += e->n_stmts;
	if (depth + e->height > ps->cache->deepest)
		ps->cache->deepest = depth + e->height;
	return true;
}

void parse_include(struct parser *ps)
{
	struct pc_ast *ast = ps->ast;
	struct pc_include_cache *cache = ps->cache;
	struct pc_arena *arena = cache ? cache->arena : ps->arena;
	struct pc_location loc = ps->tok.loc;
	char *dir, *path, *real, *text;
	const char *name;
	size_t len, first_stmt, first_nested, bytes_before, diags_before = 0, deepest = 0;

	ps_next(ps);
	if (!ps_at(ps, PC_TOK_STRING)) {
		ps_expected(ps, "a quoted file name");
		ps_skip_line(ps);
		return;
	}
	loc = ps->tok.loc;
	if (ps->tok.text[0] == '/') {
		path = xstrdup(ps->tok.text);
	} else {
		char *tmp = xstrdup(ps->lx.file);

		dir = dirname(tmp);
		path = strcmp(dir, ".") == 0 ? xstrdup(ps->tok.text)
					     : xasprintf("%s/%s", dir, ps->tok.text);
		free(tmp);
	}
	ps_next(ps);
	if (!ps_at_end(ps)) {
		ps_expected(ps, "end of line after include");
		ps_skip_line(ps);
		free(path);
		return;
	}
	real = realpath(path, NULL);
	if (!real) {
		perror_at(ps, &loc, "cannot include '%s': %s", path, strerror(errno));
		free(path);
		return;
	}
	if (!include_allowed(ps, &loc, path, real)) {
		free(real);
		free(path);
		return;
	}
	if (cache) {
		const struct cached_include *e = cache_find(cache, path, real);

		if (e && splice_cached(ps, e, &loc)) {
			free(real);
			free(path);
			return;
		}
	}
	/* read what was checked, not what the name may point to by now */
	text = pc_read_file(real, &len);
	if (!text) {
		perror_at(ps, &loc, "cannot include '%s': %s", path, strerror(errno));
		free(real);
		free(path);
		return;
	}
	if (ast->included_bytes + len > PC_MAX_INCLUDE_BYTES) {
		perror_at(ps, &loc, "cannot include '%s': the included files hold more than %u MiB in all",
			  path, PC_MAX_INCLUDE_BYTES >> 20);
		goto out;
	}
	/* a binary file is no policy: its lines would only be quoted as noise */
	if (memchr(text, '\0', len)) {
		perror_at(ps, &loc, "cannot include '%s': not a policy text file (it holds NUL bytes)",
			  path);
		goto out;
	}
	bytes_before = ast->included_bytes;
	ast->included_bytes += len;
	ast->included = xgrow(ast->included, &ast->cap_included, ast->n_included + 1,
			      sizeof(*ast->included));
	ast->included[ast->n_included].real = pc_arena_strdup(arena, real);
	ast->included[ast->n_included].loc = loc;
	ast->n_included++;
	name = pc_arena_strdup(arena, path);
	ps->stack[ps->depth].real = ast->included[ast->n_included - 1].real;
	ps->stack[ps->depth].name = name;
	first_stmt = ast->n;
	first_nested = ast->n_included;
	if (cache) {
		diags_before = pc_diag_count(ps->diag, PC_SEV_ERROR) +
			       pc_diag_count(ps->diag, PC_SEV_WARNING) +
			       pc_diag_count(ps->diag, PC_SEV_NOTE);
		deepest = cache->deepest;
		cache->deepest = ps->depth + 1;
	}
	parse_text(ps->ast, ps->diag, ps->stack, ps->depth + 1, name, text, len, arena, cache);
	if (cache) {
		size_t height = cache->deepest - (ps->depth + 1);

		if (pc_diag_count(ps->diag, PC_SEV_ERROR) + pc_diag_count(ps->diag, PC_SEV_WARNING) +
		    pc_diag_count(ps->diag, PC_SEV_NOTE) == diags_before &&
		    !cache_find(cache, name, ast->included[first_nested - 1].real)) {
			struct cached_include *e;

			cache->ent = xgrow(cache->ent, &cache->cap, cache->n + 1, sizeof(*cache->ent));
			e = &cache->ent[cache->n++];
			e->name = name;
			e->real = ast->included[first_nested - 1].real;
			e->n_stmts = ast->n - first_stmt;
			e->stmts = pc_arena_memdup(cache->arena, &ast->stmts[first_stmt],
						   e->n_stmts * sizeof(*e->stmts));
			e->n_nested = ast->n_included - first_nested;
			e->nested = pc_arena_memdup(cache->arena, &ast->included[first_nested],
						    e->n_nested * sizeof(*e->nested));
			e->bytes = ast->included_bytes - bytes_before;
			e->height = height;
		}
		if (deepest > cache->deepest)
			cache->deepest = deepest;
	}
out:
	free(text);
	free(real);
	free(path);
}
