/* SPDX-License-Identifier: MIT */
/**
 * DOC: lowering the IR into an nftables plan
 *
 * The nft text backend and the netlink builder of `apply` both start from
 * this plan: one table, its named sets, three base chains and, per chain,
 * the nft rules in evaluation order. Every decision about how an IR rule
 * becomes nft rules (splitting by family and protocol, splitting a reject
 * into its TCP-reset and ICMP parts, single values versus sets, the rule
 * comment) is taken here once, so that `nft -f` of the text and `apply`
 * produce the same kernel state by construction.
 *
 * Matches of one rule, in the order both emitters write them:
 *   interface, family, source, destination, protocol + ports / ICMP types,
 *   conntrack state, rate limit, log, verdict.
 */
#ifndef PORTCULLIS_NFT_LOWER_H
#define PORTCULLIS_NFT_LOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <portcullis/diag.h>
#include <portcullis/ir.h>

/* Limits of nft(8) and the kernel, in bytes without the NUL. */
#define PC_NFT_COMMENT_MAX 128
#define PC_NFT_LOG_PREFIX_MAX 127
#define PC_NFT_IFNAME_MAX 15
#define PC_NFT_NAME_MAX 255
/* sources one `limit ... per source` tracks at once (issue 14) */
#define PC_NFT_METER_SIZE 65535

enum pc_nft_verdict {
	PC_NFT_ACCEPT,
	PC_NFT_DROP,
	PC_NFT_REJECT,       /* ICMP / ICMPv6 (or inet "icmpx") port unreachable */
	PC_NFT_REJECT_TCP,   /* TCP reset; the rule matches TCP */
	/* NAT (routers), in the nat chains only */
	PC_NFT_MASQUERADE,
	PC_NFT_SNAT,         /* snat ip[6] to @nat_addr */
	PC_NFT_DNAT,         /* dnat ip[6] to @nat_addr[:@nat_port] */
};

/* What a set holds (its nft type). */
enum pc_nft_key {
	PC_NFT_KEY_IPV4,
	PC_NFT_KEY_IPV6,
	PC_NFT_KEY_PORT,
	PC_NFT_KEY_ICMP,
	PC_NFT_KEY_ICMPV6,
	__PC_NFT_KEY_MAX
};

/**
 * struct pc_nft_elem - one closed interval of a set, network byte order
 * @lo: first key
 * @hi: last key (equal to @lo for a single value)
 */
struct pc_nft_elem {
	uint8_t lo[16];
	uint8_t hi[16];
};

/**
 * struct pc_nft_set - a named set or the anonymous set of one match
 * @name:     the set's name for a named set, NULL for an anonymous one
 * @key:      what it holds
 * @l4proto:  for port and ICMP sets: the protocol of the match (nft
 *            records it in the set's user data)
 * @interval: an interval set (prefixes, ranges or port ranges present);
 *            a set of single addresses is a hash set, named or not
 * @n:        number of elements
 * @v:        elements, ascending; in interval sets adjacent and
 *            overlapping intervals are merged (the kernel refuses
 *            neighbours in a named set as apply sends them): netlink
 *            sends these, the text writes them for named sets
 * @addrs:    for anonymous address sets: the prefixes the text writes
 *            (points into the IR); nft -f merges them into @v itself, and
 *            a single merged element written out would become a plain
 *            match instead of a set
 * @n_addrs:  their number
 */
struct pc_nft_set {
	char *name;
	enum pc_nft_key key;
	uint8_t l4proto;
	bool interval;
	size_t n;
	struct pc_nft_elem *v;
	const struct pc_addr *addrs;
	size_t n_addrs;
	/* sets (issue 14): a dynamic set (no elements here; flags dynamic,
	 * timeout) and its default timeout in seconds, 0 for none */
	bool dynamic;
	uint32_t timeout;
	/* a group's named set: the group's definition (issue 10), else NULL */
	const struct pc_location *loc;
	/* matches (issue 14): the buckets of a `limit ... per source`, one
	 * element per source address (flags dynamic,timeout, at most @size
	 * elements). Not kept across reloads: an element holds its rate. */
	bool meter;
	uint32_t size;
	/* a large group of single addresses and some prefixes (issue 14):
	 * this set holds its addresses (a hash set), @nets its prefixes and
	 * ranges (NAME_v4_nets, an interval set, also in the plan's sets);
	 * a rule matching the group is one nft rule per set. NULL otherwise. */
	struct pc_nft_set *nets;
	/* the text's plan (pc_nft_plan_create_text()): a group's set keeps
	 * no @v (32 bytes an element, twice the list itself); its @n merged
	 * elements are made from @addrs as they are written
	 * (pc_nft_set_each()), those of @part: 0 all, 1 the single
	 * addresses, 2 the prefixes and ranges of a split group */
	uint8_t part;
};

/* How one address / port / type match is expressed. */
enum pc_nft_match_kind {
	PC_NFT_MATCH_NONE,    /* any */
	PC_NFT_MATCH_VALUE,   /* one address, prefix, port or type */
	PC_NFT_MATCH_RANGE,   /* one port range lo-hi */
	PC_NFT_MATCH_SET,     /* lookup in @set */
};

/**
 * struct pc_nft_match - one match of a rule
 * @kind:  see enum pc_nft_match_kind
 * @addr:  for an address VALUE: the prefix (points into the IR)
 * @lo:    for a port / type VALUE or RANGE
 * @hi:    for a RANGE
 * @set:   for SET: the set (a named one of the plan, or the rule's own
 *         anonymous one)
 */
struct pc_nft_match {
	/* pointers first: no padding (24 bytes, not 32; a plan holds five
	 * per rule, and a 1,000,000-rule policy millions of rules) */
	const struct pc_addr *addr;
	const struct pc_nft_set *set;
	enum pc_nft_match_kind kind;
	uint16_t lo;
	uint16_t hi;
};

/**
 * struct pc_nft_map - a named verdict map, from an optimised run of rules
 * @name:     "input_v4_1": chain, family, number in the chain
 * @family:   PC_FAM_IPV4 or PC_FAM_IPV6; the key is
 *            `ip[6] saddr . meta l4proto . th dport` (interval)
 * @n:        number of elements
 * @v:        the elements (disjoint, sorted; point into the IR)
 * @comments: per element "FILE:LINE[ TEXT]" of the rule it comes from (owned);
 *            NULL in the text's plan (pc_nft_plan_create_text()), which
 *            makes each as it writes it
 */
struct pc_nft_map {
	char *name;
	unsigned family;
	size_t n;
	const struct pc_map_elem *v;
	char **comments;
	bool counter;        /* counters (issue 14): a counter per element */
	/* Verdict maps over destinations (the compiler, issue 15) */
	const struct pc_addr_range *const *daddr; /* NULL, or per element its destination:
				      * the key is then `ip[6] saddr . ip[6] daddr .
				      * meta l4proto . th dport` */
	/* Map keys over interfaces (issue 15): NULL, or per element its
	 * interface name: the key then begins with `iifname` (`oifname` when
	 * @oif, the output chain) */
	const char *const *iface;
	bool oif;
	/* ICMP types in map keys (issue 15): the elements are ICMP (ICMPv6
	 * in an IPv6 map) and the key ends in `icmp type` instead of
	 * `meta l4proto . th dport` */
	bool icmp;
	/* Actions in map elements (issue 15): NULL, or per element NULL (its
	 * verdict) or the action chain it jumps to (`jump input_a1`), whose
	 * one rule logs and decides as the policy rule did */
	const char **jump;
	/* Narrow keys (issue 15, branch narrow): the key ends at the
	 * destination (`ip[6] saddr . ip[6] daddr`, with the interface in
	 * front when @iface), without `meta l4proto . th dport`. Only a map of
	 * a class chain of a dispatch whose packets all have one protocol,
	 * every element of that protocol and of ports 0-65535: the dispatch
	 * has decided protocol and port already (nft_lower.c,
	 * key_narrow()). */
	bool noport;
};

/**
 * struct pc_nft_limit - a named limit object: the one token bucket that
 *                       every nft rule of a limited policy rule shares
 * @name:  "input_limit_1": chain, number of the limited rule in the chain
 * @limit: the rate (nft's default burst of 5 packets)
 * @src:   the policy rule
 *
 * A policy rule becomes several nft rules (one per protocol and family,
 * two for a reject of any protocol); a `limit rate` statement in each
 * would give each its own bucket, and a reject's TCP packets over the
 * first bucket would fall into the second rule.
 */
struct pc_nft_limit {
	char *name;
	struct pc_limit limit;
	const struct pc_rule *src;
};

/**
 * struct pc_nft_rule - one nft rule
 * @src:        the IR rule it comes from (location, origin)
 * @family:     0 (both), PC_FAM_IPV4 or PC_FAM_IPV6
 * @nfproto:    the text must say `meta nfproto` (no other match implies
 *              the family)
 * @ifname:     interface or NULL
 * @oif:        @ifname is the output interface
 * @oifname:    forward rules: the interface the packet leaves on, or NULL
 * @saddr:      source match
 * @daddr:      destination match
 * @proto:      layer 4 protocol, -1 for any
 * @dport:      destination ports (for protocols with ports)
 * @icmp_type:  ICMP / ICMPv6 types (for those protocols)
 * @ct_state:   PC_CT_* mask, 0 = any
 * @limit:      the rule's rate limit object (`limit name "NAME"`), or NULL
 * @log:        log before the verdict
 * @log_prefix: may be NULL
 * @verdict:    final statement
 * @comment:    "FILE:LINE[ TEXT]", at most PC_NFT_COMMENT_MAX bytes
 * @sets:       the anonymous sets of this rule (owned), @n_sets of them
 * @vmap:       for a rule of the optimiser: `ip[6] saddr . meta l4proto .
 *              th dport vmap @NAME` and nothing else (@verdict unused)
 */
struct pc_nft_rule {
	/*
	 * The fields by size, largest first, so that none is padded (288
	 * bytes, not 360: the plan of a big policy holds millions of rules).
	 * Pointers:
	 */
	const struct pc_rule *src;
	const char *ifname;
	const struct pc_nft_limit *limit;
	const char *log_prefix;
	char *comment;
	struct pc_nft_set *sets[4];
	size_t n_sets;
	const struct pc_nft_map *vmap;
	/* Routers and gateways (routers) */
	const char *oifname;
	const struct pc_addr *nat_addr;   /* PC_NFT_SNAT, PC_NFT_DNAT */
	/* matches (issue 14): `limit ... per source`: `update @METER { ip
	 * saddr limit rate ... }` instead of @limit */
	const struct pc_nft_set *meter;
	/* Dispatch (issue 15), and nothing else in the rule. With
	 * @dispatch_proto 0: `meta nfproto . meta l4proto vmap { FAMILY .
	 * PROTO : jump CHAIN, ... }`, @dispatch_chains the port-level chain
	 * of each (family, protocol) of @dispatch in element order; else
	 * `PROTO dport vmap { PORTS : jump CLASS, ... }` for the elements of
	 * @dispatch_family and @dispatch_proto, @dispatch_chains the class
	 * chains. The arrays are owned, the names belong to the chains. */
	const struct pc_dispatch *dispatch;
	const char **dispatch_chains;
	/* the matches */
	struct pc_nft_match saddr;
	struct pc_nft_match daddr;
	struct pc_nft_match dport;
	struct pc_nft_match icmp_type;
	/* matches (issue 14): source ports (`tcp sport ...`) */
	struct pc_nft_match sport;
	unsigned family;
	int proto;
	unsigned ct_state;
	enum pc_nft_verdict verdict;
	uint16_t log_group;
	uint16_t nat_port;                /* PC_NFT_DNAT: 0 keeps the port */
	uint8_t dispatch_family;
	uint8_t dispatch_proto;
	bool nfproto;
	bool oif;
	bool log;
	bool counter;        /* counters (issue 14): `counter` before log */
	bool log_nflog;      /* matches (issue 14): log group @log_group */
	/* matches (issue 14): != for the interface, source, destination */
	bool ifname_not, saddr_not, daddr_not;
};

/**
 * struct pc_nft_chain - one base chain
 * @name:   "input", "forward" or "output"
 * @hook:   NF_INET_* hook number
 * @policy: PC_VERDICT_ALLOW or PC_VERDICT_DENY
 * @n:      number of rules
 * @rules:  rules in evaluation order
 */
struct pc_nft_chain {
	const char *name;
	unsigned hook;
	enum pc_verdict policy;
	size_t n;
	struct pc_nft_rule *rules;
	/* NAT (routers): a `type nat` chain at priority @prio (dstnat -100,
	 * srcnat 100), policy accept */
	bool nat;
	int prio;
};

/**
 * struct pc_nft_plan - everything `nft -f` / apply installs
 * @table:  the table's name (family inet); points into the IR
 * @n_sets: number of named sets
 * @sets:   named sets, sorted by name (owned)
 * @n_maps: number of verdict maps
 * @maps:   verdict maps, in chain order (owned)
 * @n_limits: number of limit objects
 * @limits: limit objects, in chain order (owned)
 * @chains: input, forward, output, then (NAT, routers) prerouting and
 *          postrouting when the policy has NAT statements
 * @n_chains: 3, or 5 with NAT
 */
struct pc_nft_plan {
	const char *table;
	size_t n_sets;
	struct pc_nft_set **sets;
	size_t n_maps;
	struct pc_nft_map **maps;
	size_t n_limits;
	struct pc_nft_limit **limits;
	struct pc_nft_chain chains[5];
	size_t n_chains;
	struct pc_rule *nat_rules;   /* NAT: the match of each statement (owned) */
	/* Dispatch (issue 15): the class chains (no hook), "input_c1", ...,
	 * in the order their dispatches come (owned, names too) */
	size_t n_sub;
	struct pc_nft_chain *sub;
	/* the arena of the IR lowered when it is a spooled view
	 * (pc_ir_spool()), else NULL: told of what the text reads
	 * (pc_arena_release(), issue 15); it holds the maps' @jump */
	struct pc_arena *spool;
};

/* Chain @c of @plan: the base chains, then the class chains. */
static inline struct pc_nft_chain *pc_nft_plan_chain(const struct pc_nft_plan *plan, size_t c)
{
	return c < plan->n_chains ? (struct pc_nft_chain *)&plan->chains[c] : &plan->sub[c - plan->n_chains];
}

/**
 * pc_nft_plan_create() - lower an IR
 * @ir:   the policy; must outlive the plan (the plan points into it)
 * @diag: what nftables cannot hold (a comment or log prefix too long or
 *        with a quote or control character, an interface name too long,
 *        a bad table name) is reported here with its location
 *
 * Return: a new plan (free with pc_nft_plan_destroy()), or NULL after
 * reporting errors.
 */
struct pc_nft_plan *pc_nft_plan_create(const struct pc_ir *ir,
				       struct pc_diag *diag);

/*
 * pc_nft_plan_create() for the text only: the named sets of groups hold
 * no elements (@v), which the text makes as it writes them; netlink
 * needs pc_nft_plan_create().
 */
struct pc_nft_plan *pc_nft_plan_create_text(const struct pc_ir *ir,
					    struct pc_diag *diag);

/*
 * Calls @fn with each element of @s in order: its @v, or for a set of the
 * text's plan without them, each made from its prefixes (merged as
 * pc_nft_set_merge() merges).
 */
void pc_nft_set_each(const struct pc_nft_set *s,
		     void (*fn)(const struct pc_nft_elem *e, void *ctx), void *ctx);

/**
 * pc_nft_check() - what pc_nft_plan_create() would report, without lowering
 * @ir:   the policy
 * @diag: errors go here
 *
 * Return: 0 when the IR can be lowered, -1 after reporting errors.
 */
int pc_nft_check(const struct pc_ir *ir, struct pc_diag *diag);

/* Frees a plan. NULL is a no-op. */
void pc_nft_plan_destroy(struct pc_nft_plan *plan);

/* Shared sets (issue 15, nft_share.c) */
/*
 * Every anonymous set that two or more rules of @plan hold becomes one
 * named set of the plan ("shared_N_tcp_ports", ...) that they look up.
 */
void pc_nft_share_sets(struct pc_nft_plan *plan);
/* Merges the touching and overlapping intervals of an interval set. */
void pc_nft_set_merge(struct pc_nft_set *s);

/*
 * The size a named set is declared with (issue 14): its number of
 * elements for a group's hash set (single addresses, not dynamic), else
 * 0 (none declared). Text and netlink both declare it.
 */
uint32_t pc_nft_set_size(const struct pc_nft_set *s);

/*
 * What the lowering and the text read of one map element in the IR: the
 * element and its destination, interface and jump pointers (for
 * pc_arena_release()).
 */
#define PC_NFT_ELEM_READ (sizeof(struct pc_map_elem) + 3 * sizeof(void *))

/* Number of nft rules of the plan (all chains). */
size_t pc_nft_plan_rule_count(const struct pc_nft_plan *plan);

/*
 * Writes one rule as an nft statement line (no indentation, no newline).
 * The text backend and `diff` use it.
 */
void pc_nft_rule_format(const struct pc_nft_rule *r, FILE *out);

/*
 * Writes the body of `table inet NAME { ... }`: limit objects, named sets,
 * verdict maps, then the three
 * chains, indented by one tab, each line ending in a newline.
 */
void pc_nft_plan_format_body(const struct pc_nft_plan *plan, FILE *out);

/* Writes element @i of verdict map @m as nft text ("192.0.2.0/24 . udp . 53 comment ... : accept"). */
void pc_nft_map_elem_format(const struct pc_nft_map *m, size_t i, FILE *out);

/* Length in bytes of a key of @key ("ipv4_addr" is 4, ...). */
unsigned pc_nft_key_len(enum pc_nft_key key);

/* The port a plan element holds: 2 bytes in network order. */
unsigned pc_nft_be16_get(const uint8_t *p);

/*
 * sets (issue 14): the whole table for a plan with dynamic sets, as
 * nft_reload.c explains: declarations, flush, deletes, then the table
 * (pc_nft_plan_format_body()) without wiping the dynamic sets.
 */
void pc_nft_plan_format_reload(const struct pc_nft_plan *plan, FILE *out);

#endif
