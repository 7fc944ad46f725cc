/* SPDX-License-Identifier: MIT */
/**
 * DOC: the portcullis intermediate representation (IR)
 *
 * The resolver turns a policy into this structure; every backend reads it
 * and nothing else. A backend never sees a service name or a $group: all
 * names are resolved to protocol numbers, port intervals and prefixes.
 *
 * Meaning of one &struct pc_rule: a packet matches when ALL of
 *  - its family is in @families,
 *  - @iface is NULL or equals the packet's interface (input interface for
 *    the in and forward directions, output interface for out); an @iface
 *    ending in '*' is a prefix: "eth*" matches every name starting "eth";
 *    with a list (@n_ifaces > 1) any of @ifaces will do,
 *  - @n_oifaces is 0 or the packet leaves on one of @oifaces (forward),
 *  - @saddr is empty or contains the source address (likewise @daddr),
 *  - @n_l4 is 0, or the packet matches ONE of @l4 (same protocol, and the
 *    destination port is in the port set / the ICMP type is in the type list,
 *    an empty set meaning any), and its source port is in @sports (empty:
 *    any),
 *  - @ct_state is 0 or the packet's conntrack state is in it,
 *  - @limit.rate is 0 or the rate limit is not exceeded;
 * the first matching rule of a chain decides; when none matches, the
 * chain's @policy decides.
 *
 * Everything is owned by the &struct pc_ir and freed by pc_ir_destroy().
 * Backends must treat the IR as read-only.
 */
#ifndef PORTCULLIS_IR_H
#define PORTCULLIS_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct pc_location - where something was written in a policy
 * @file: file name as given (or as resolved relative to its includer);
 *        NULL for something the policy did not write (a built-in default)
 * @line: 1-based line, 0 when unknown
 * @col:  1-based column (bytes), 0 when unknown
 * @len:  length of the token in bytes (for the caret under it), may be 0
 */
struct pc_location {
	const char *file;
	unsigned line;
	unsigned col;
	unsigned len;
};

/* Address families, used as a bit mask. */
enum pc_family {
	PC_FAM_IPV4 = 1u << 0,
	PC_FAM_IPV6 = 1u << 1,
	PC_FAM_ALL = PC_FAM_IPV4 | PC_FAM_IPV6,
};

enum pc_direction {
	PC_DIR_IN,
	PC_DIR_OUT,
	PC_DIR_FORWARD,
	__PC_DIR_MAX
};

enum pc_verdict {
	PC_VERDICT_ALLOW,   /* accept */
	PC_VERDICT_DENY,    /* drop silently */
	PC_VERDICT_REJECT,  /* TCP reset for TCP, ICMP(v6) port unreachable otherwise */
	__PC_VERDICT_MAX
};

/* IANA protocol numbers the IR uses (same values as IPPROTO_*). */
enum pc_proto {
	PC_PROTO_ICMP = 1,
	PC_PROTO_TCP = 6,
	PC_PROTO_UDP = 17,
	PC_PROTO_DCCP = 33,
	PC_PROTO_ICMPV6 = 58,
	PC_PROTO_SCTP = 132,
};

/* True for the protocols that carry destination ports. */
static inline bool pc_proto_has_ports(unsigned proto)
{
	return proto == PC_PROTO_TCP || proto == PC_PROTO_UDP ||
	       proto == PC_PROTO_SCTP || proto == PC_PROTO_DCCP;
}

/* An inclusive port interval. */
struct pc_port_range {
	uint16_t lo;
	uint16_t hi;
};

/**
 * struct pc_port_set - a set of destination ports
 * @n: number of intervals; 0 means any port
 * @v: sorted ascending, disjoint and non-adjacent (merged)
 */
struct pc_port_set {
	size_t n;
	struct pc_port_range *v;
};

/**
 * struct pc_addr - an address prefix
 * @family: PC_FAM_IPV4 or PC_FAM_IPV6
 * @plen:   prefix length (32 / 128 for a single address)
 * @a:      address in network byte order, IPv4 in a[0..3]; host bits are 0
 */
struct pc_addr {
	uint8_t family;
	uint8_t plen;
	uint8_t a[16];
};

/**
 * struct pc_addr_set - a set of prefixes
 * @name: the policy's `hosts` group name when the set is exactly one group
 *        (backends may emit it as a named set / pf table), else NULL
 * @n:    number of prefixes; 0 means any address, except when @name is
 *        set: then the set is the dynamic set @name (see &struct
 *        pc_dynset, pc_addr_set_is_dynamic()), whose addresses are known
 *        only at run time
 * @v:    IPv4 first, then IPv6; each family sorted by address; no prefix
 *        contains another and adjacent prefixes are not merged on purpose
 *        (what the policy wrote stays recognisable)
 */
struct pc_addr_set {
	const char *name;
	size_t n;
	struct pc_addr *v;
	/* Group location (issue 10): with @name, where that `hosts` group is
	 * defined (its name in the definition), so that a refusal of the set's
	 * elements names the group's line; zero without @name. */
	struct pc_location loc;
};

/**
 * struct pc_l4 - one protocol alternative of a rule
 * @proto:   enum pc_proto value (or any other IANA protocol number)
 * @dports:  for pc_proto_has_ports() protocols; empty = any port
 * @n_types: for ICMP / ICMPv6: number of @types, 0 = any type
 * @types:   ICMP or ICMPv6 type numbers, sorted, unique
 */
struct pc_l4 {
	uint8_t proto;
	struct pc_port_set dports;
	size_t n_types;
	uint8_t *types;
};

/* Connection tracking states, as a mask (built-in rules only). */
enum pc_ct_state {
	PC_CT_NEW = 1u << 0,
	PC_CT_ESTABLISHED = 1u << 1,
	PC_CT_RELATED = 1u << 2,
	PC_CT_INVALID = 1u << 3,
};

enum pc_limit_unit {
	PC_LIMIT_SECOND,
	PC_LIMIT_MINUTE,
	PC_LIMIT_HOUR,
	PC_LIMIT_DAY,
	__PC_LIMIT_MAX
};

/* @rate == 0: no limit. */
struct pc_limit {
	uint32_t rate;
	enum pc_limit_unit unit;
};

/* Where a rule comes from: the policy, or one of the built-in behaviours. */
enum pc_rule_origin {
	PC_ORIGIN_POLICY,
	PC_ORIGIN_CONNTRACK,     /* ct established,related accept / ct invalid drop */
	PC_ORIGIN_LOOPBACK,      /* loopback accepted */
	PC_ORIGIN_ESSENTIAL_ICMP,/* ICMP/ICMPv6 that IP needs */
	PC_ORIGIN_DEFAULT,       /* the final rule of a `default ... reject` */
	__PC_ORIGIN_MAX
};

/**
 * struct pc_map_elem - one element of a verdict map (optimiser output)
 * @rule:    the policy rule the element comes from: its location and
 *           comment (pc_map_elem_loc(), pc_map_elem_comment())
 * @saddr:   source prefix (plen 0: any source of the family)
 * @proto:   a pc_proto_has_ports() protocol (or ICMP, see below)
 * @verdict: PC_VERDICT_ALLOW or PC_VERDICT_DENY (or PC_VERDICT_REJECT,
 *           see @action), an enum pc_verdict in one byte
 * @dport:   destination port interval
 * @action:  see pc_map_elem_action()
 *
 * The elements of one map are pairwise disjoint (no packet matches two), so
 * their order does not matter; they are sorted by (proto, saddr, dport).
 *
 * ICMP types in map keys (issue 15): in a map whose elements are all of
 * PC_PROTO_ICMP (an IPv4 map) or PC_PROTO_ICMPV6 (an IPv6 map), @dport is
 * the interval of ICMP types instead (a packet of no known type is in
 * none); only backends with
 * PC_CAP_VMAP_ICMP are given such maps. A map never mixes the two kinds.
 *
 * 40 bytes (PC_BACKEND_ABI 3; 72 before): a folded 100,000-term Capirca
 * policy holds millions of elements, the largest part of generate's peak
 * memory (issue 15). The location and comment are the rule's, so the
 * element points at the rule instead of holding copies of them.
 */
struct pc_map_elem {
	const struct pc_rule *rule;
	struct pc_addr saddr;
	uint8_t proto;
	uint8_t verdict;
	struct pc_port_range dport;
	/*
	 * Actions in map elements (issue 15): true when the element takes
	 * the action of @rule besides its verdict: its log (prefix, group),
	 * and a @verdict that may then be PC_VERDICT_REJECT. Such a rule
	 * always decides the packets it matches (it has no limit), so as an
	 * element it keeps first-match order like an allow or a deny. Only
	 * backends with PC_CAP_VMAP_ACTION are given such elements.
	 */
	bool action;
};

/* Dispatch (the compiler, issue 15) */
struct pc_chain;

/**
 * struct pc_dispatch_elem - one element of a dispatch (optimiser output)
 * @family: PC_FAM_IPV4 or PC_FAM_IPV6, the packet's
 * @proto: a pc_proto_has_ports() protocol
 * @dport: destination port interval
 * @cls:   index of the class chain (struct pc_dispatch) it leads to
 */
struct pc_dispatch_elem {
	uint8_t family;
	uint8_t proto;
	struct pc_port_range dport;
	size_t cls;
};

/**
 * struct pc_dispatch - a jump on (protocol, destination port) to one of
 *                      several class chains (optimiser output)
 * @n:         number of elements; per family and protocol of @v they are
 *             disjoint, sorted by (family, proto, dport)
 * @v:         the elements
 * @n_classes: number of class chains
 * @classes:   the class chains: their rules (no dispatch among them), no
 *             policy; a packet that none of them decides goes on to the
 *             rule after the dispatch, as does a packet of no element
 *
 * A rule with a dispatch matches nothing else (its other fields are unused
 * but @origin, @loc and @families).
 */
struct pc_dispatch {
	size_t n;
	const struct pc_dispatch_elem *v;
	size_t n_classes;
	const struct pc_chain *classes;
};

/* Verdict maps over destinations (the compiler, issue 15) */
/**
 * struct pc_addr_range - an inclusive interval of addresses of one family
 * @family: PC_FAM_IPV4 or PC_FAM_IPV6
 * @lo:     first address, network byte order, IPv4 in lo[0..3] (rest 0)
 * @hi:     last address, likewise
 */
struct pc_addr_range {
	uint8_t family;
	uint8_t lo[16];
	uint8_t hi[16];
};

/**
 * struct pc_rule - one first-match rule
 * @origin:   policy rule or built-in behaviour
 * @loc:      the policy location (for built-ins: the `option`/`default`
 *            line that shaped them, or file only with line 0)
 * @verdict:  what a match does
 * @families: PC_FAM_* mask this rule applies to (never 0)
 * @iface:    interface name, a prefix and '*' (eth*), or NULL for any
 * @saddr:    source prefixes (empty = any); only of families in @families
 * @daddr:    destination prefixes (empty = any)
 * @n_l4:     protocol alternatives; 0 = any protocol
 * @l4:       sorted by proto, one entry per protocol
 * @ct_state: PC_CT_* mask, 0 = any state
 * @log:      log the packet before the verdict
 * @log_prefix: may be NULL (backend default)
 * @limit:    rate limit; over it, the rule does not match
 * @comment:  the policy's `comment "..."`, may be NULL
 * @n_map:    0 for an ordinary rule. Otherwise the rule is a verdict map
 *            made by the optimiser (pc_ir_optimize()) from a run of policy
 *            rules: it applies to exactly one family (@families), has no
 *            other match, and a packet whose (source address, protocol,
 *            destination port) lies in an element of @map gets that
 *            element's verdict; any other packet goes on to the next rule.
 *            Only backends with PC_CAP_VMAP are given such rules.
 * @map:      the elements
 * @log_nflog: log to netlink group @log_group instead (backends with
 *            PC_CAP_LOG_GROUP only)
 */
struct pc_rule {
	enum pc_rule_origin origin;
	struct pc_location loc;
	enum pc_verdict verdict;
	unsigned families;
	const char *iface;
	struct pc_addr_set saddr;
	struct pc_addr_set daddr;
	size_t n_l4;
	struct pc_l4 *l4;
	unsigned ct_state;
	bool log;
	const char *log_prefix;
	struct pc_limit limit;
	const char *comment;
	size_t n_map;
	const struct pc_map_elem *map;
	/*
	 * Routers and gateways (routers). Interface lists: a packet matches
	 * when its interface matches ANY of @ifaces (each a name or a prefix
	 * and '*'). With @n_ifaces > 1, @ifaces[0] is @iface; otherwise
	 * @iface alone says it (@n_ifaces may be 0 or 1); a backend without PC_CAP_IFACE_LIST is given no rule with
	 * more than one. @oifaces: forward rules only, the interface the
	 * packet leaves on (any of them; 0 entries: any interface); needs
	 * PC_CAP_OIFACE. One rule stays one rule: a `limit` keeps one bucket
	 * however a backend spells the lists.
	 */
	size_t n_ifaces;
	const char *const *ifaces;
	size_t n_oifaces;
	const char *const *oifaces;
	/* Verdict maps over destinations (the compiler, issue 15) */
	/*
	 * @map_daddr: NULL, or for a verdict map whose key holds the
	 * destination address: per element of @map (same index), its
	 * destination interval (the whole family's space: any destination);
	 * the packet's destination must lie in it too. Only backends with
	 * PC_CAP_VMAP_DADDR are given such maps. Pointers (PC_BACKEND_ABI 3):
	 * the elements of a map share one copy of each interval.
	 */
	const struct pc_addr_range *const *map_daddr;
	/* matches (issue 14): with @log, log to netlink group @log_group
	 * (NFLOG: ulogd, tcpdump -i nflog:N) instead of the kernel log */
	bool log_nflog;
	uint16_t log_group;
	/* matches (issue 14): negation. @saddr_not: the packet's source is NOT
	 * in @saddr (which is then never empty; a packet of a family @saddr
	 * has no prefix of matches); likewise @daddr_not; @iface_not: the
	 * interface is not @iface. Backends with PC_CAP_NEGATION only. */
	bool saddr_not, daddr_not, iface_not;
	/* matches (issue 14): packets the @limit bucket holds, 0: the
	 * backend's default (5 on nft and iptables) */
	uint32_t limit_burst;
	/* matches (issue 14): `source-port PORTS`: the packet's source port
	 * is in @sports too (n == 0: any source port). Only with @n_l4 > 0
	 * and every @l4 a pc_proto_has_ports() protocol; the one set applies
	 * to each of them. Backends with PC_CAP_SPORT only. */
	struct pc_port_set sports;
	/* matches (issue 14): `limit ... per source`: @limit is a bucket per
	 * source address, not one for the rule. Backends with
	 * PC_CAP_LIMIT_PER_SOURCE only. */
	bool limit_per_source;
	/* Dispatch (the compiler, issue 15): NULL, or this rule is a dispatch */
	const struct pc_dispatch *dispatch;
	/* Map keys over interfaces (issue 15) */
	/*
	 * @map_iface: NULL, or for a verdict map whose key begins with the
	 * interface: per element of @map (same index), the exact interface
	 * name (never a wildcard) the packet's interface must equal: the
	 * input interface in the in and forward chains, the output one in
	 * the out chain (as @iface). When all elements would name the same
	 * interface, @map_iface is NULL and the map rule's @iface holds that
	 * exact name instead (the packet's interface must equal it before the
	 * lookup). Only backends with PC_CAP_VMAP_IFACE are given either.
	 * Likewise a verdict map in the forward chain may have one exact
	 * @oifaces name (@n_oifaces 1): the packet must leave on it too.
	 */
	const char *const *map_iface;
};

/* The policy location of map element @e (its rule's). */
static inline const struct pc_location *pc_map_elem_loc(const struct pc_map_elem *e)
{
	return &e->rule->loc;
}

/* The comment of map element @e's rule, may be NULL. */
static inline const char *pc_map_elem_comment(const struct pc_map_elem *e)
{
	return e->rule->comment;
}

/* NULL, or the rule whose action (log, reject) map element @e takes. */
static inline const struct pc_rule *pc_map_elem_action(const struct pc_map_elem *e)
{
	return e->action ? e->rule : NULL;
}

/**
 * struct pc_chain - the rules of one direction, in evaluation order
 * @policy:     verdict when no rule matches (a reject default is also
 *              emitted as a final PC_ORIGIN_DEFAULT rule, @policy then being
 *              DENY, so that backends without a reject policy stay exact)
 * @policy_loc: the `default` statement, or file only when implicit
 */
struct pc_chain {
	enum pc_direction dir;
	enum pc_verdict policy;
	struct pc_location policy_loc;
	size_t n;
	struct pc_rule *rules;
};

/* Options the policy switched (the `option` statement). */
enum pc_option {
	PC_OPT_STATELESS = 1u << 0,
	PC_OPT_FILTER_LOOPBACK = 1u << 1,
	PC_OPT_NO_ESSENTIAL_ICMP = 1u << 2,
	/* counters (issue 14): every rule counts packets and bytes; a high
	 * bit, clear of the options other work adds */
	PC_OPT_COUNTERS = 1u << 16,
};

/* ---- NAT (routers) ----------------------------------------------------- */

enum pc_nat_kind {
	PC_NAT_MASQUERADE,  /* source to the address of the leaving interface */
	PC_NAT_SNAT,        /* source to @to */
	PC_NAT_DNAT,        /* destination to @to (and @to_port) */
	__PC_NAT_MAX
};

/**
 * struct pc_nat_rule - one NAT statement: it translates, never filters
 * @kind:     masquerade, snat or dnat
 * @loc:      the statement
 * @families: PC_FAM_* it applies to (snat and dnat: the family of @to)
 * @iface, @n_ifaces, @ifaces: as in &struct pc_rule; the leaving interface
 *            for masquerade and snat (postrouting), the arriving one for
 *            dnat (prerouting); NULL: any
 * @saddr, @daddr, @n_l4, @l4: the match, as in &struct pc_rule (before
 *            the translation)
 * @to:       snat, dnat: the new address (a single address)
 * @to_port:  dnat: the new destination port, 0 to keep it (then every
 *            protocol of @l4 has ports)
 * @comment:  may be NULL
 *
 * The first matching NAT rule of its kind translates the first packet of
 * a connection (conntrack translates the rest); dnat before the filter
 * (which then sees the translated destination), masquerade and snat after
 * it, on packets the filter let through (forward and out).
 */
struct pc_nat_rule {
	enum pc_nat_kind kind;
	struct pc_location loc;
	unsigned families;
	const char *iface;
	size_t n_ifaces;
	const char *const *ifaces;
	struct pc_addr_set saddr;
	struct pc_addr_set daddr;
	size_t n_l4;
	const struct pc_l4 *l4;
	struct pc_addr to;
	uint16_t to_port;
	const char *comment;
};

/* Assertions (review, issue 16) */
/**
 * struct pc_expect - an `expect VERDICT DIRECTION [on IFACE] [MATCH ...]`
 * @dir:  the direction it speaks of
 * @rule: its matches and verdict as a rule would hold them (@rule.loc is
 *        the statement); every new packet it matches must get
 *        @rule.verdict (deny: deny or reject). The loader proves it;
 *        backends ignore expectations.
 */
struct pc_expect {
	enum pc_direction dir;
	struct pc_rule rule;
};

/**
 * struct pc_ir - a resolved policy
 * @size:          sizeof(struct pc_ir) in the program that made the IR
 * @rule_size:     sizeof(struct pc_rule) there: the step of pc_chain.rules
 * @l4_size:       sizeof(struct pc_l4) there: the step of pc_rule.l4
 * @map_elem_size: sizeof(struct pc_map_elem) there: the step of pc_rule.map
 * @table:       table / chain prefix / anchor name
 * @policy_file: the top-level policy file name as given
 * @options:     PC_OPT_* mask
 * @chains:      indexed by enum pc_direction
 * @registry_name: registry file the names were resolved with (display only)
 * @registry_date: newest modification date in it (YYYY-MM-DD) or ""
 * @n_expects:   number of @expects
 * @expects:     the `expect` statements, in policy order (proven at load)
 *
 * The program makes IRs (and owns their memory where a backend cannot see
 * it); a backend only reads one. The sizes come first and let the IR
 * structs grow at their end without breaking a plugin built against an
 * older header (backend.h, the compatibility promise): a plugin steps
 * through rules, protocol alternatives and map elements with the accessors
 * below. The program's own code, built with these very structs, may index.
 * An IR whose sizes are 0 (built by hand in a test) steps by this header's.
 */
struct pc_ir {
	size_t size;
	size_t rule_size;
	size_t l4_size;
	size_t map_elem_size;
	const char *table;
	const char *policy_file;
	unsigned options;
	struct pc_chain chains[__PC_DIR_MAX];
	const char *registry_name;
	const char *registry_date;
	/* NAT (routers): in policy order; backends need PC_CAP_NAT */
	size_t n_nat;
	const struct pc_nat_rule *nat;
	/* Assertions (review, issue 16): the policy's `expect` statements */
	size_t n_expects;
	const struct pc_expect *expects;
	/* sets (issue 14): the dynamic sets, sorted by name */
	size_t n_dynsets;
	const struct pc_dynset *dynsets;
};

/* Element @i of an array whose elements are @size bytes apart (0: @fallback). */
static inline const void *pc_ir_elem_(const void *base, size_t i, size_t size,
				      size_t fallback)
{
	return (const char *)base + i * (size ? size : fallback);
}

/* Rule @i of @chain (i < chain->n). */
static inline const struct pc_rule *pc_ir_rule(const struct pc_ir *ir,
					       const struct pc_chain *chain, size_t i)
{
	return (const struct pc_rule *)pc_ir_elem_(chain->rules, i, ir->rule_size,
						   sizeof(struct pc_rule));
}

/* Protocol alternative @i of @rule (i < rule->n_l4). */
static inline const struct pc_l4 *pc_ir_l4(const struct pc_ir *ir,
					   const struct pc_rule *rule, size_t i)
{
	return (const struct pc_l4 *)pc_ir_elem_(rule->l4, i, ir->l4_size,
						 sizeof(struct pc_l4));
}

/* Element @i of the verdict map of @rule (i < rule->n_map). */
static inline const struct pc_map_elem *pc_ir_map_elem(const struct pc_ir *ir,
						       const struct pc_rule *rule,
						       size_t i)
{
	return (const struct pc_map_elem *)pc_ir_elem_(rule->map, i, ir->map_elem_size,
						       sizeof(struct pc_map_elem));
}

/*
 * True when the program's IR has @field of struct @type (rule, l4,
 * map_elem, or ir itself): a plugin checks a field newer than the oldest
 * program it supports before reading it, e.g. PC_IR_HAS(ir, rule, foo).
 */
#define PC_IR_SIZE_rule(ir) ((ir)->rule_size)
#define PC_IR_SIZE_l4(ir) ((ir)->l4_size)
#define PC_IR_SIZE_map_elem(ir) ((ir)->map_elem_size)
#define PC_IR_SIZE_ir(ir) ((ir)->size)
#define PC_IR_HAS(ir, type, field) \
	(PC_IR_SIZE_##type(ir) >= offsetof(struct pc_##type, field) + \
				  sizeof(((const struct pc_##type *)0)->field))


/* ---- sets (issue 14): dynamic sets ---------------------------------- */

/**
 * struct pc_dynset - `hosts NAME = dynamic [timeout DURATION]`: a set the
 *                    policy matches on and other tools (fail2ban, crowdsec,
 *                    `portcullis set add`) fill at run time
 * @name:     the group name
 * @timeout:  seconds an element stays by default, 0 for no timeout
 * @loc:      the `hosts` statement
 *
 * A rule's &struct pc_addr_set refers to one with @name set and no
 * prefixes. Its elements survive a reload on every backend that can
 * express it (PC_CAP_DYNSET); the reference evaluator treats it as empty.
 */
struct pc_dynset {
	const char *name;
	uint32_t timeout;
	struct pc_location loc;
};

/* True when @s is a dynamic set (see &struct pc_addr_set). */
static inline bool pc_addr_set_is_dynamic(const struct pc_addr_set *s)
{
	return s->name && s->n == 0;
}

const char *pc_direction_name(enum pc_direction dir);
const char *pc_verdict_name(enum pc_verdict v);
const char *pc_limit_unit_name(enum pc_limit_unit u);
/* "connection tracking", "loopback", "essential ICMP", "default", or NULL for PC_ORIGIN_POLICY. */
const char *pc_origin_name(enum pc_rule_origin origin);
/* "masquerade", "snat", "dnat" */
const char *pc_nat_kind_name(enum pc_nat_kind kind);
/* "tcp", "udp", "icmp", ... or NULL for a protocol without a name here. */
const char *pc_proto_name(unsigned proto);

/* Frees the IR and everything it owns. NULL is a no-op. */
void pc_ir_destroy(struct pc_ir *ir);

#endif
