/* SPDX-License-Identifier: MIT */
/*
 * The syntax tree of a policy: what the parser produces and the resolver
 * consumes. Includes are already expanded in place; every node carries its
 * location. Nothing here knows the registry.
 */
#ifndef PORTCULLIS_AST_H
#define PORTCULLIS_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/diag.h>
#include <portcullis/ir.h>

struct pc_arena;

enum pc_ast_item_kind {
	PC_AST_WORD,    /* bare word: name, number, range, address, any */
	PC_AST_STRING,  /* quoted string */
	PC_AST_VAR,     /* $group */
	__PC_AST_ITEM_MAX
};

/* In a `services` group an item may say what it is: `port 80`, `class user`. */
enum pc_ast_item_hint {
	PC_AST_HINT_NONE,
	PC_AST_HINT_SERVICE,
	PC_AST_HINT_PORT,
	PC_AST_HINT_CLASS,
};

/**
 * struct pc_ast_item - one element of a list
 * @text:   the word, the decoded string, or the group name without '$'
 * @suffix: what followed a '/': a protocol (ssh/tcp), a prefix length
 *          (192.0.2.0/24) or a rate unit; NULL if none
 */
struct pc_ast_item {
	enum pc_ast_item_kind kind;
	enum pc_ast_item_hint hint;
	struct pc_location loc;
	const char *text;
	const char *suffix;
	struct pc_location suffix_loc;
};

/* A single item or a `{ … }` list, with an optional `/PROTO` after the list. */
struct pc_ast_list {
	struct pc_location loc;
	bool braced;
	size_t n;
	struct pc_ast_item *v;
	const char *suffix;
	struct pc_location suffix_loc;
};

enum pc_ast_match_kind {
	PC_AST_MATCH_SERVICE,
	PC_AST_MATCH_PORT,
	PC_AST_MATCH_CLASS,
	PC_AST_MATCH_PROTO,
	PC_AST_MATCH_FROM,
	PC_AST_MATCH_TO,
	PC_AST_MATCH_ICMP,
	PC_AST_MATCH_ICMPV6,
	PC_AST_MATCH_FAMILY,     /* matches (issue 14): family ipv4|ipv6 */
	PC_AST_MATCH_SPORT,      /* matches (issue 14): source-port PORTS */
	__PC_AST_MATCH_MAX
};

struct pc_ast_match {
	enum pc_ast_match_kind kind;
	struct pc_location loc;   /* the keyword */
	struct pc_ast_list list;
	bool negated;             /* matches (issue 14): from not / to not */
};

struct pc_ast_rule {
	enum pc_verdict verdict;
	enum pc_direction dir;
	const char *iface;            /* NULL: any */
	struct pc_location iface_loc;
	size_t n_matches;
	struct pc_ast_match *matches;
	bool log;
	const char *log_prefix;       /* NULL: none given */
	struct pc_location log_loc;
	struct pc_limit limit;
	struct pc_location limit_loc;
	const char *comment;
	struct pc_location comment_loc;
	/* matches (issue 14): log group N */
	bool log_nflog;
	uint16_t log_group;
	bool iface_not;               /* on not IFACE */
	uint32_t limit_burst;         /* limit ... burst M; 0: not given */
	bool limit_per_source;        /* limit ... per source */
	/* Routers and gateways (routers): `on` and `out on` as written; @iface
	 * above is the first of @ifaces */
	/* NULL or n == 0: no `on` (pointers: most rules name no interface,
	 * and a list inline is 80 bytes of each of a million rules) */
	struct pc_ast_list *ifaces;
	struct pc_ast_list *oifaces;  /* forward rules: `out on`, NULL or n == 0: none */
	bool nat;                     /* a NAT statement's match (no direction) */
};

enum pc_ast_stmt_kind {
	PC_AST_TABLE,
	PC_AST_TRANSPORTS,
	PC_AST_HOSTS,
	PC_AST_SERVICES,
	PC_AST_DEFAULT,
	PC_AST_OPTION,
	PC_AST_RULE,
	PC_AST_NAT,     /* routers: masquerade, snat, dnat */
	PC_AST_EXPECT,     /* `expect` (review): @rule holds its verdict, direction, matches */
	__PC_AST_STMT_MAX
};

/**
 * struct pc_ast_stmt - one statement
 * @loc:  the statement's first token
 * @name: TABLE: the name; HOSTS/SERVICES: the group name; OPTION: the option
 * @name_loc: location of @name
 * @list: TRANSPORTS, HOSTS, SERVICES
 * @dir, @verdict: DEFAULT
 * @rule: RULE
 */
struct pc_ast_stmt {
	enum pc_ast_stmt_kind kind;
	struct pc_location loc;
	enum pc_direction dir;
	enum pc_verdict verdict;
	/* A statement is a definition or a rule, never both: their fields
	 * share the memory (a million-rule policy has a million statements). */
	union {
		/* PC_AST_TABLE, _TRANSPORTS, _HOSTS, _SERVICES, _OPTION */
		struct {
			const char *name;
			struct pc_location name_loc;
			struct pc_ast_list list;
			/* sets: `hosts NAME = file "PATH"` */
			const char *hosts_file;        /* PATH made relative to the working
							* directory (as includes are); NULL: none */
			struct pc_location hosts_file_loc;
			/* sets: `hosts NAME = dynamic [timeout DURATION]` */
			bool hosts_dynamic;
			uint32_t hosts_timeout;        /* seconds, 0: none */
		};
		/* PC_AST_RULE, _NAT, _EXPECT */
		struct {
			struct pc_ast_rule rule;
			/* NAT (routers): @rule is the match, @nat_to the text
			 * after '->' (NULL for masquerade) */
			enum pc_nat_kind nat;
			const char *nat_to;
			struct pc_location nat_to_loc;
		};
	};
};

/* A file read by `include`: each may be included once. */
struct pc_ast_included {
	const char *real;         /* its resolved path */
	struct pc_location loc;   /* the include statement */
};

struct pc_ast {
	struct pc_arena *arena;   /* owns the strings, file names included:
				   * the IR made from the tree points at them */
	/* Owns the statements, their matches and lists (not those of a cached
	 * include, which the cache owns). Nothing made from the tree points
	 * into them, so pc_ast_destroy() frees them: at a million rules they
	 * are about a gigabyte the backends need not carry. */
	struct pc_arena *tree;
	/* every file included so far (not the top-level one), and their bytes */
	size_t n_included, cap_included;
	struct pc_ast_included *included;
	size_t included_bytes;
	size_t n;
	size_t cap;
	struct pc_ast_stmt **stmts;  /* the statements live in @arena */
	const char *top_file;
	/*
	 * Parsed with a resolver (pc_ast_parse_file_resolving()): the
	 * statements before @done are resolved already, as they were parsed,
	 * while no error was reported (issue 15: the tree of a million rules
	 * is not kept). Rules, NAT and expect statements then live in
	 * @rules, which is freed and made again whenever every statement
	 * in it is resolved; the other statements in @tree.
	 */
	struct pc_resolver *eager;
	size_t done;
	struct pc_arena *rules;
	size_t rules_in_arena;
};

/*
 * Parses @path and its includes. Always returns a tree (possibly partial);
 * errors are on @diag. *sys_error: the top-level file could not be read.
 * File names stored in locations live in @arena.
 */
struct pc_ast *pc_ast_parse_file(const char *path, struct pc_arena *arena,
				 struct pc_diag *diag, bool *sys_error);
struct pc_ast *pc_ast_parse_buffer(const char *name, const char *text,
				   size_t len, struct pc_arena *arena,
				   struct pc_diag *diag);
void pc_ast_destroy(struct pc_ast *ast);

/*
 * pc_ast_parse_file() resolving each statement with @rv as soon as it is
 * parsed, while no error was reported; give the tree to
 * pc_resolver_finish(@rv) after. The diagnostics are those of a parse
 * then a pc_resolve(), except where more errors than are shown or more
 * warnings than are kept were reported (which are kept depends on the
 * order they come in).
 */
struct pc_resolver;
struct pc_ast *pc_ast_parse_file_resolving(const char *path, struct pc_arena *arena,
					   struct pc_diag *diag, bool *sys_error,
					   struct pc_resolver *rv);

/* sets: seconds of "3600", "90s", "10m", "1h30m", "7d" (at most
 * PC_MAX_TIMEOUT); 0 when @text is none of these. */
uint32_t pc_ast_duration_parse(const char *text);
/*
 * Included files parsed once for many policies (`generate POLICY...`): a
 * file included again under the same name is not read or parsed again,
 * its statements are shared. Only files that parsed with no diagnostic
 * are kept, and only where a fresh parse would report nothing either, so
 * the trees are exactly those of fresh parses. The statements and their
 * strings live in the cache: destroy it after every tree and IR made with
 * it. Every parse with one cache must use one @diag (the files' sources
 * are registered on it once, at their first parse).
 */
struct pc_include_cache;
struct pc_include_cache *pc_include_cache_create(void);
void pc_include_cache_destroy(struct pc_include_cache *c);
/* pc_ast_parse_file() / _buffer() with @cache (may be NULL). */
struct pc_ast *pc_ast_parse_file_cached(const char *path, struct pc_arena *arena,
					struct pc_diag *diag, bool *sys_error,
					struct pc_include_cache *cache);
struct pc_ast *pc_ast_parse_buffer_cached(const char *name, const char *text,
					  size_t len, struct pc_arena *arena,
					  struct pc_diag *diag,
					  struct pc_include_cache *cache);

/* Limits that keep hostile input harmless. */
#define PC_MAX_LINE 16384        /* bytes in one line */
#define PC_MAX_STRING 127        /* bytes in a string */
#define PC_MAX_INCLUDE_DEPTH 32
#define PC_MAX_INCLUDES 256            /* files included, in all */
#define PC_MAX_INCLUDE_BYTES (64u << 20) /* bytes of all included files */
#define PC_MAX_GROUP_DEPTH 64    /* $a in $b in $c ... */
#define PC_MAX_LIST 1000000      /* items in one list */
#define PC_MAX_TIMEOUT (365u * 86400u) /* seconds, of a dynamic set */

#endif
