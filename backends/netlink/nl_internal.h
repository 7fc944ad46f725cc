/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the netlink applier share: the objects (sets, rules,
 * chains, named objects of one table) built from a plan or read from the
 * kernel, and the helpers more than one part needs. Private to
 * backends/netlink/: nl_build.c (plan to libnftnl objects), nl_read.c
 * (sockets, reading a table back), nl_batch.c (transactions, error
 * mapping to policy lines), nl_diff.c (canonical text, drift).
 */
#ifndef PC_NL_INTERNAL_H
#define PC_NL_INTERNAL_H

#include "backends/netlink/netlink.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <endian.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "common/util.h"

/* nft's datatype numbers (the set key types `nft list` shows). */
enum {
	NFT_TYPE_IPADDR = 7,
	NFT_TYPE_IP6ADDR = 8,
	NFT_TYPE_INET_SERVICE = 13,
	NFT_TYPE_INET_PROTOCOL = 12,
	NFT_TYPE_ICMP_TYPE = 14,
	NFT_TYPE_ICMP6_TYPE = 29,
	NFT_TYPE_IFNAME = 41,
};

/* nft's type of a concatenation: the field types, 6 bits each. */
#define NFT_TYPE_BITS 6
#define NFT_TYPE_CONCAT3(a, b, c) \
	((((uint32_t)(a) << NFT_TYPE_BITS | (b)) << NFT_TYPE_BITS) | (c))
/* the dispatch (issue 15): `meta nfproto . meta l4proto` */
#define NFT_TYPE_NFPROTO 2
#define NFT_TYPE_DISPATCH \
	((uint32_t)NFT_TYPE_NFPROTO << NFT_TYPE_BITS | NFT_TYPE_INET_PROTOCOL)
#define NFT_TYPE_VMAP_V4 \
	NFT_TYPE_CONCAT3(NFT_TYPE_IPADDR, NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE)
#define NFT_TYPE_VMAP_V6 \
	NFT_TYPE_CONCAT3(NFT_TYPE_IP6ADDR, NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE)
/* with the destination address (verdict maps over destinations, issue 15) */
#define NFT_TYPE_CONCAT4(a, b, c, d) \
	((NFT_TYPE_CONCAT3(a, b, c) << NFT_TYPE_BITS) | (d))
#define NFT_TYPE_VMAP_DST_V4 \
	NFT_TYPE_CONCAT4(NFT_TYPE_IPADDR, NFT_TYPE_IPADDR, NFT_TYPE_INET_PROTOCOL, \
			 NFT_TYPE_INET_SERVICE)
#define NFT_TYPE_VMAP_DST_V6 \
	NFT_TYPE_CONCAT4(NFT_TYPE_IP6ADDR, NFT_TYPE_IP6ADDR, NFT_TYPE_INET_PROTOCOL, \
			 NFT_TYPE_INET_SERVICE)

/* the length of an interface name in a key (IFNAMSIZ) */
#define NFT_IFNAME_LEN 16

/* nft's expression type number of a concatenation (set key "typeof" udata). */
#define NFT_EXPR_CONCAT 13

/* The kernel's default log level (syslog's LOG_WARNING). */
#define NFT_LOG_LEVEL_WARNING 4

/* nft's byteorder numbers in set user data. */
enum { NFT_BYTEORDER_BIG = 2 };

/*
 * The bytes of elements a NEWSETELEM message takes before the next goes
 * to a new message: the element list is one attribute, whose length must
 * stay below 64 KiB, and the largest element (two 64-byte keys, a
 * verdict, a comment of up to 256 bytes) takes well under 1 KiB.
 */
#define ELEM_LIST_BYTES 60000

/* The longest key: a verdict map's ipv6_addr . inet_proto . inet_service. */
#define KEY_MAX 64

struct nl_elem {
	uint8_t key[KEY_MAX];
	/* when @has_end: a concatenation's range end (owned; out of line:
	 * the elements of a million-address set have none, and 64 bytes
	 * each would be 64 MB of them) */
	uint8_t *key_end;
	uint32_t len;
	uint32_t flags;      /* NFT_SET_ELEM_INTERVAL_END */
	bool open;           /* interval open to the end of the key space */
	bool has_end;
	bool has_verdict;
	uint32_t verdict;    /* NF_ACCEPT, NF_DROP, NFT_JUMP (a verdict map's data) */
	char *chain;         /* NFT_JUMP: the chain (owned; the dispatch, issue 15) */
	char *comment;       /* owned, may be NULL */
};

struct nl_set {
	struct nftnl_set *s; /* attributes only; elements are in @e or @plan */
	char *name;          /* as the objects know it (kernel name when read) */
	bool anon;
	struct nl_elem *e;
	size_t n, cap;
	/*
	 * Built from a plan's set (not a map): its elements are walked from
	 * the plan with plan_set_elems() when the batch is written or the
	 * set compared, never copied into @e (96 bytes each: 96 MB for a
	 * million-address list). @e is then empty.
	 */
	const struct pc_nft_set *plan;
	/*
	 * Read from the kernel: the elements as libnftnl parsed them, one
	 * holder per dump message, every attribute kept (data, timeouts,
	 * expiry, expressions, object references), for the rollback.
	 */
	struct nftnl_set **raw;
	size_t n_raw;
	/*
	 * Built from a plan: where a kernel refusal of the set or its
	 * elements is reported. A map: its rule; a group's named set: the
	 * group's definition (the first rule that uses it when the IR has
	 * none); an anonymous set: its rule.
	 */
	const struct pc_location *loc;
	/* matches (issue 14): a plan's per-source limit set; not kept
	 * across apply as other dynamic sets are (its elements hold the rate) */
	bool meter;
	/* read back without its elements (pc_nl_objs_read_for()): a
	 * re-apply makes it anew or keeps it by its declaration */
	bool unread;
};

struct nl_lookup {
	struct nftnl_expr *expr;
	size_t set;          /* index into pc_nl_objs.sets */
};

struct nl_rule {
	struct nftnl_rule *r;
	char *chain;
	char *comment;                  /* may be NULL */
	const struct pc_nft_rule *plan; /* NULL when read from the kernel */
	struct nl_lookup *lk;
	size_t n_lk;
	uint64_t handle;                /* read from the kernel: its handle, else 0 */
};

struct pc_nl_objs {
	char *table;
	uint32_t table_flags;
	char *table_comment;     /* the table's comment (ownership marker), or NULL */
	void *table_udata;       /* read from the kernel: its user data as it was */
	uint32_t table_udata_len;
	struct nl_set *sets;
	size_t n_sets, sets_cap;
	struct nftnl_chain **chains;
	size_t n_chains, chains_cap;
	struct nl_rule *rules;
	size_t n_rules, rules_cap;
	/* Named objects (the plan's limit objects, or all read back) and flowtables (read back only). */
	struct nftnl_obj **objs;       /* named objects of every type */
	size_t n_objs, objs_cap;
	struct nftnl_flowtable **fts;
	size_t n_fts, fts_cap;
	bool from_kernel;
	struct timespec read_at;       /* CLOCK_MONOTONIC: ages element expiry */
	/* read from the kernel: the ruleset's generation the read saw whole
	 * (NFT_MSG_GETGEN before and after agree), 0 when unknown */
	uint32_t genid;
};

struct nl_set *objs_add_set(struct pc_nl_objs *o);

struct nl_rule *objs_add_rule(struct pc_nl_objs *o);

void objs_add_chain(struct pc_nl_objs *o, struct nftnl_chain *c);

struct nl_elem *set_add_elem(struct nl_set *s, const uint8_t *key,
				     uint32_t len, uint32_t flags, bool open);
/* Gives @e the range end @end of its key's length. */
void elem_set_end(struct nl_elem *e, const uint8_t *end);

const char *set_kind(const struct nl_set *ns);

/* One element of a set as nft sends it: a key, flags, open to the end. */
typedef void nl_elem_fn(void *ctx, const uint8_t *key, uint32_t len, uint32_t flags,
			bool open);

/*
 * Calls @fn for each element nft sends for the plan set @ps, in order:
 * the values of a hash set; an interval set as start and end marks
 * (NFT_SET_ELEM_INTERVAL_END). Return: how many.
 */
size_t plan_set_elems(const struct pc_nft_set *ps, nl_elem_fn *fn, void *ctx);
/* the elements of a plan's set as an array (@n of them), to be freed */
struct nl_elem *plan_set_elem_array(const struct pc_nft_set *ps, size_t *n);
void nl_set_materialize(struct nl_set *ns);

struct mnl_socket *nl_open(int *err);

/*
 * Batches (nl_batch.c), for the re-apply (nl_update.c): a batch begun
 * (with the generation it expects, 0 for any), a message started and
 * closed, the messages of a plan's objects, the batch's commit.
 */
struct nlmsghdr *batch_msg(struct pc_nl_batch *b, uint16_t type, uint16_t flags,
			   const struct pc_location *loc, char *what);
void batch_done(struct pc_nl_batch *b, struct nlmsghdr *nlh);
struct pc_nl_batch *batch_new(uint32_t genid);
void batch_commit(struct pc_nl_batch *b);
/* a new set's id, for its NEWSET and the lookups of it */
uint32_t batch_set_id(struct pc_nl_batch *b);
/* a set and its elements */
void batch_set(struct pc_nl_batch *b, struct nl_set *ns, const char *name, uint32_t id,
	       const struct pc_location *loc);
/* the elements of a set, after its NEWSET (@id) or into the existing set @name (@id 0) */
void batch_del_flowtable(struct pc_nl_batch *b, const char *table,
			 const struct nftnl_flowtable *live_ft);
void batch_del_elems(struct pc_nl_batch *b, const struct nl_set *ns, const char *name,
		     const struct nl_elem *const *v, size_t n);
void batch_set_elems(struct pc_nl_batch *b, const struct nl_set *ns, const char *name,
		     uint32_t id, const struct pc_location *loc);
void batch_obj(struct pc_nl_batch *b, struct nftnl_obj *obj, const struct pc_location *loc);
/* a delete (or a plain declaration) of a named object of @table */
void batch_named(struct pc_nl_batch *b, const char *table, uint16_t type, const char *name,
		 uint32_t obj_type);
/*
 * A rule of a plan, each of its anonymous sets just before it. Built sets
 * are called "__set%d" (the kernel picks the number) and found by id.
 * (Setting a lookup's set name twice leaks in libnftnl.) At the end of
 * its chain, or (re-apply) just before the rule of handle @before.
 */
void batch_rule(struct pc_nl_batch *b, struct pc_nl_objs *o, struct nl_rule *nr,
		uint64_t before);
/* a set the kernel updates from outside (flags dynamic), not a per-source limit's */
bool set_is_dynamic(const struct nl_set *ns);
uint32_t set_u32(const struct nl_set *ns, uint16_t attr);
uint64_t set_u64(const struct nl_set *ns, uint16_t attr);

/*
 * Objects by name (nl_read.c): an index sorted by name, for finding one
 * of thousands without comparing it with every other.
 */
struct nl_name {
	const char *name;
	size_t i;
};

/* The anonymous (@anon) or named sets of @o by name; free() the result. */
struct nl_name *sets_by_name(const struct pc_nl_objs *o, bool anon, size_t *n);
/* The chains of @o by name; free() the result. */
struct nl_name *chains_by_name(const struct pc_nl_objs *o, size_t *n);
/* The index of @name in @v (@n entries), or -1. */
ssize_t name_find(const struct nl_name *v, size_t n, const char *name);

/*
 * Canonical text (nl_diff.c): what diff compares, and what a re-apply
 * compares to tell an unchanged chain or set (nl_batch.c). Each returns
 * a new string; set_values() a sorted array of them, freed with
 * values_free().
 */
char *set_canon(const struct nl_set *ns);
char **set_values(const struct nl_set *ns, size_t *n);
void values_free(char **v, size_t n);
char *rule_canon(const struct pc_nl_objs *o, const struct nl_rule *nr);
char *chain_canon(const struct nftnl_chain *c);

uint32_t seq_next(void);

#endif
