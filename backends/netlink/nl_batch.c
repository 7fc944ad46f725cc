/* SPDX-License-Identifier: MIT */
/*
 * Batches: one transaction of a plan (and its exact rollback), sent and
 * its errors reported at the policy line.
 */
#include "backends/netlink/nl_internal.h"

/* Batches. */

struct seq_loc {
	uint32_t seq;
	const struct pc_location *loc; /* may be NULL */
	char *what;                    /* owned; NULL for a rule of a plan */
	const char *chain;             /* a plan's rule: its chain, comment */
	const char *comment;
};

struct pc_nl_batch {
	struct pc_buf buf;
	struct seq_loc *map;
	size_t n_map, map_cap;
	uint32_t set_id;
};

/*
 * The batch lives in an anonymous mapping: its pages come zeroed (the
 * padding libmnl leaves after attributes is sent as zeros, not garbage)
 * and, advised for transparent huge pages, a 2,000-rule batch costs a
 * couple of page faults instead of hundreds.
 */
#define BATCH_RESERVE (64u << 20)

static void batch_grow(struct pc_nl_batch *b, size_t need)
{
	size_t cap = b->buf.cap ? b->buf.cap : BATCH_RESERVE;
	void *p;

	while (cap < need)
		cap *= 2;
	if (!b->buf.data) {
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		p = mremap(b->buf.data, b->buf.cap, cap, MREMAP_MAYMOVE);
	}
	if (p == MAP_FAILED)
		PC_BUG("cannot map %zu bytes for the netlink batch", cap);
	madvise(p, cap, MADV_HUGEPAGE);
	b->buf.data = p;
	b->buf.cap = cap;
}

struct nlmsghdr *batch_msg(struct pc_nl_batch *b, uint16_t type,
				  uint16_t flags, const struct pc_location *loc,
				  char *what)
{
	/* Room for the largest message; trimmed to its length after. */
	size_t room = 1u << 17;
	struct nlmsghdr *nlh;
	uint32_t seq = seq_next();

	if (b->buf.cap - b->buf.len < room)
		batch_grow(b, b->buf.len + room);
	nlh = nftnl_nlmsg_build_hdr(b->buf.data + b->buf.len, type, NFPROTO_INET,
				    flags, seq);
	b->map = xgrow(b->map, &b->map_cap, b->n_map + 1, sizeof(*b->map));
	b->map[b->n_map].seq = seq;
	b->map[b->n_map].loc = loc;
	b->map[b->n_map].what = what;
	b->map[b->n_map].chain = NULL;
	b->map[b->n_map].comment = NULL;
	b->n_map++;
	return nlh;
}

void batch_done(struct pc_nl_batch *b, struct nlmsghdr *nlh)
{
	b->buf.len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * A table message. The last NEWTABLE of a batch (@o not NULL) carries the
 * contents' flags and user data: as read back when it is a saved table,
 * else the ownership comment.
 */
static void batch_table(struct pc_nl_batch *b, const char *table, uint16_t type,
			const struct pc_nl_objs *o)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	/*
	 * Not the owner flag of a table read back: the process sending the
	 * rollback would own the table, and it would go when that process
	 * exits.
	 */
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS,
				    o ? o->table_flags & ~(uint32_t)NFT_TABLE_F_OWNER : 0);
	if (type == NFT_MSG_NEWTABLE && o && o->table_udata) {
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, o->table_udata,
				     o->table_udata_len);
	} else if (type == NFT_MSG_NEWTABLE && o && o->table_comment) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

		if (!ud)
			PC_BUG("out of memory");
		nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, o->table_comment);
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nlh = batch_msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, NULL,
			xasprintf("table inet %s", table));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_done(b, nlh);
}

static const struct pc_location *rule_loc(const struct nl_rule *nr)
{
	return nr->plan ? &nr->plan->src->loc : NULL;
}

/* An element with a key, maybe a range end, flags, a verdict, a comment. */
static void batch_elem_full(struct nlmsghdr *nlh, const struct nl_elem *ne)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		PC_BUG("out of memory");
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, ne->key, ne->len);
	if (ne->has_end)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, ne->key_end, ne->len);
	if (ne->flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, ne->flags);
	if (ne->has_verdict)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, ne->verdict);
	if (ne->chain)
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, ne->chain);
	if (ne->open || ne->comment) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

		if (!ud)
			PC_BUG("out of memory");
		/* in nft's order: the comment, then the flags */
		if (ne->comment)
			nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, ne->comment);
		if (ne->open)
			nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
					    1 /* NFTNL_SET_ELEM_F_INTERVAL_OPEN */);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nftnl_set_elem_nlmsg_build_payload(nlh, e);
	nftnl_set_elem_free(e);
}

/*
 * Writing a set's elements: as many to a NEWSETELEM message as its element
 * list attribute holds (below 64 KiB: ELEM_LIST_BYTES plus one element at
 * most): a million addresses are some 400 messages, not 2,000.
 */
struct elem_writer {
	struct pc_nl_batch *b;
	const struct nl_set *ns;
	const char *name;
	uint32_t id;
	const struct pc_location *loc;
	struct nlmsghdr *nlh;   /* the message being filled, or NULL */
	struct nlattr *list;
	uint16_t k;
	bool del;               /* DELSETELEM messages, not NEWSETELEM */
};

/* Opens the next element (and a message for it when none is open). */
static struct nlattr *writer_open(struct elem_writer *w)
{
	const struct nl_set *ns = w->ns;

	if (!w->nlh) {
		w->nlh = batch_msg(w->b, w->del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
				   w->del ? 0 : NLM_F_CREATE, w->loc,
				   xasprintf("elements of %s %s", set_kind(ns),
					     ns->anon ? "(anonymous)" : ns->name));
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_SET, w->name);
		if (w->id)
			mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(w->id));
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_TABLE,
				  nftnl_set_get_str(ns->s, NFTNL_SET_TABLE));
		w->list = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		w->k = 0;
	}
	return mnl_attr_nest_start(w->nlh, ++w->k);
}

static void writer_flush(struct elem_writer *w)
{
	if (!w->nlh)
		return;
	mnl_attr_nest_end(w->nlh, w->list);
	batch_done(w->b, w->nlh);
	w->nlh = NULL;
}

static void writer_close(struct elem_writer *w, struct nlattr *elem)
{
	mnl_attr_nest_end(w->nlh, elem);
	if ((char *)mnl_nlmsg_get_payload_tail(w->nlh) - (char *)w->list > ELEM_LIST_BYTES)
		writer_flush(w);
}

/*
 * A plain element (a key, maybe flags: every element of an address set),
 * written straight into the batch as libnftnl would write it, not through
 * an nftnl_set_elem allocated, filled and freed per element (a third of
 * the batch's time for a million of them).
 */
static void writer_plain(void *ctx, const uint8_t *key, uint32_t len, uint32_t flags,
			 bool open)
{
	struct elem_writer *w = ctx;
	struct nlattr *elem = writer_open(w), *k;

	if (open) {
		struct nl_elem ne = { .len = len, .flags = flags, .open = true };

		memcpy(ne.key, key, len);
		batch_elem_full(w->nlh, &ne);
	} else {
		if (flags)
			mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_FLAGS, htonl(flags));
		k = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(w->nlh, NFTA_DATA_VALUE, len, key);
		mnl_attr_nest_end(w->nlh, k);
	}
	writer_close(w, elem);
}

/* Deletes elements @v (@n of them) of set @ns, named @name: by their keys and flags. */
void batch_del_elems(struct pc_nl_batch *b, const struct nl_set *ns, const char *name,
		     const struct nl_elem *const *v, size_t n)
{
	struct elem_writer w = { b, ns, name, 0, NULL, NULL, NULL, 0, true };

	for (size_t i = 0; i < n; i++) {
		struct nlattr *elem = writer_open(&w), *key;

		if (v[i]->flags)
			mnl_attr_put_u32(w.nlh, NFTA_SET_ELEM_FLAGS, htonl(v[i]->flags));
		key = mnl_attr_nest_start(w.nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(w.nlh, NFTA_DATA_VALUE, v[i]->len, v[i]->key);
		mnl_attr_nest_end(w.nlh, key);
		if (v[i]->has_end) {
			key = mnl_attr_nest_start(w.nlh, NFTA_SET_ELEM_KEY_END);
			mnl_attr_put(w.nlh, NFTA_DATA_VALUE, v[i]->len, v[i]->key_end);
			mnl_attr_nest_end(w.nlh, key);
		}
		writer_close(&w, elem);
	}
	writer_flush(&w);
}

/*
 * A set and its elements: a plan's set walked from the plan (no copy of
 * its elements), a map's from @ns->e.
 */
void batch_set(struct pc_nl_batch *b, struct nl_set *ns, const char *name,
		      uint32_t id, const struct pc_location *loc)
{
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(ns->s, NFTNL_SET_ID, id);
	nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, loc,
			xasprintf("%s %s", set_kind(ns), ns->anon ? "(anonymous)" : ns->name));
	nftnl_set_nlmsg_build_payload(nlh, ns->s);
	batch_done(b, nlh);
	batch_set_elems(b, ns, name, id, loc);
}

/* The elements of a set (@id 0: a set that exists, named by @name). */
void batch_set_elems(struct pc_nl_batch *b, const struct nl_set *ns,
			    const char *name, uint32_t id, const struct pc_location *loc)
{
	struct elem_writer w = { b, ns, name, id, loc, NULL, NULL, 0 };

	if (ns->plan)
		plan_set_elems(ns->plan, writer_plain, &w);
	for (size_t i = 0; i < ns->n; i++) {
		const struct nl_elem *ne = &ns->e[i];

		if (ne->has_end || ne->has_verdict || ne->open || ne->comment) {
			struct nlattr *elem = writer_open(&w);

			batch_elem_full(w.nlh, ne);
			writer_close(&w, elem);
		} else {
			writer_plain(&w, ne->key, ne->len, ne->flags, false);
		}
	}
	writer_flush(&w);
}

void batch_obj(struct pc_nl_batch *b, struct nftnl_obj *obj,
		      const struct pc_location *loc)
{
	struct nlmsghdr *nlh;

	nlh = batch_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, loc,
			xasprintf("object %s", nftnl_obj_get_str(obj, NFTNL_OBJ_NAME)));
	nftnl_obj_nlmsg_build_payload(nlh, obj);
	batch_done(b, nlh);
}

static char *rule_what(const struct nl_rule *nr)
{
	return xasprintf("rule in chain %s%s%s%s", nr->chain,
			 nr->comment ? " (comment \"" : "",
			 nr->comment ? nr->comment : "", nr->comment ? "\")" : "");
}

/*
 * The elements of a set read back, as read: every attribute libnftnl
 * parsed goes back (the data, flags, timeout, user data, expressions,
 * object reference), except that the remaining expiry is aged by
 * @elapsed_ms, the time since the read, and an element that has expired
 * since is left out, as the kernel would have removed it.
 */
static void batch_saved_elems(struct pc_nl_batch *b, const struct nl_set *ns,
			      uint64_t elapsed_ms)
{
	for (size_t r = 0; r < ns->n_raw; r++) {
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(ns->raw[r]);
		struct nftnl_set_elem *e;
		struct nlmsghdr *nlh = NULL;
		struct nlattr *list = NULL;
		uint16_t i = 0;

		for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
		     e = nftnl_set_elems_iter_next(it)) {
			struct nlattr *elem;

			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)) {
				uint64_t left = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);

				if (left <= elapsed_ms)
					continue;
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION,
						       left - elapsed_ms);
			}
			if (!nlh) {
				nlh = batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, NULL,
						xasprintf("elements of %s %s", set_kind(ns),
							  ns->name));
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
						  nftnl_set_get_str(ns->s, NFTNL_SET_TABLE));
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, ns->name);
				list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
				i = 0;
			}
			elem = mnl_attr_nest_start(nlh, ++i);
			nftnl_set_elem_nlmsg_build_payload(nlh, e);
			mnl_attr_nest_end(nlh, elem);
			/* an attribute (the element list) stays below 64 KiB */
			if (nlh->nlmsg_len > 32768) {
				mnl_attr_nest_end(nlh, list);
				batch_done(b, nlh);
				nlh = NULL;
			}
		}
		if (nlh) {
			mnl_attr_nest_end(nlh, list);
			batch_done(b, nlh);
		}
		if (it)
			nftnl_set_elems_iter_destroy(it);
	}
}

/* The attribute of @type inside @nest, or NULL. */
static struct nlattr *attr_find(struct nlattr *nest, uint16_t type)
{
	struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/*
 * The kernel lists every `add @set { ... }` (dynset) with a timeout, 0
 * when it has none, but refuses a timeout, even 0, for a set without the
 * timeout flag. 0 means the set's default, as no timeout does: the
 * attribute is taken out of the built rule message (and of the nests
 * around it).
 */
static void rule_drop_zero_dynset_timeout(struct nlmsghdr *nlh)
{
	struct nlattr *exprs = NULL, *a, *elem;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS)
			exprs = a;
	if (!exprs)
		return;
	mnl_attr_for_each_nested(elem, exprs) {
		struct nlattr *name = attr_find(elem, NFTA_EXPR_NAME);
		struct nlattr *data = attr_find(elem, NFTA_EXPR_DATA);
		struct nlattr *t;
		size_t cut;
		char *end;

		if (!name || !data || strcmp(mnl_attr_get_str(name), "dynset") != 0)
			continue;
		t = attr_find(data, NFTA_DYNSET_TIMEOUT);
		if (!t || mnl_attr_get_payload_len(t) != 8 || mnl_attr_get_u64(t) != 0)
			continue;
		cut = NLMSG_ALIGN(t->nla_len);
		end = (char *)nlh + nlh->nlmsg_len;
		memmove(t, (char *)t + cut, (size_t)(end - ((char *)t + cut)));
		data->nla_len -= cut;
		elem->nla_len -= cut;
		exprs->nla_len -= cut;
		nlh->nlmsg_len -= cut;
	}
}

static bool chain_is_binding(const struct nftnl_chain *c)
{
	return nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS) &&
	       (nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING);
}

static bool rule_in_binding_chain(const struct pc_nl_objs *o, const struct nl_rule *nr)
{
	for (size_t i = 0; i < o->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME), nr->chain) == 0)
			return chain_is_binding(o->chains[i]);
	return false;
}

/* Every chain of @o, as it is (a base chain with its hook and policy). */
static void batch_chains(struct pc_nl_batch *b, const struct pc_nl_objs *o)
{
	for (size_t i = 0; i < o->n_chains; i++) {
		struct nlmsghdr *nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL,
						 xasprintf("chain %s",
							   nftnl_chain_get_str(o->chains[i],
									       NFTNL_CHAIN_NAME)));

		nftnl_chain_nlmsg_build_payload(nlh, o->chains[i]);
		batch_done(b, nlh);
	}
}

/*
 * A table read back from the kernel, rebuilt generically through
 * libnftnl's parse and build of each object, so that no attribute or
 * expression type is forgotten. Everything is referred to by the name the
 * kernel gave it (anonymous sets and bound chains included: the names are
 * free again once the old table is deleted), in an order in which each
 * object exists before what refers to it: named objects (set elements and
 * rules refer to them), flowtables, chains (verdicts jump to them), sets
 * with their elements, then the rules: those of bound (anonymous) chains
 * first, since the rule that binds such a chain closes it to more rules.
 */
static void batch_saved(struct pc_nl_batch *b, struct pc_nl_objs *o)
{
	struct timespec now;
	uint64_t elapsed_ms;
	struct nlmsghdr *nlh;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed_ms = (uint64_t)(now.tv_sec - o->read_at.tv_sec) * 1000 +
		     (uint64_t)((now.tv_nsec - o->read_at.tv_nsec) / 1000000);
	for (size_t i = 0; i < o->n_objs; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, NULL,
				xasprintf("object %s", nftnl_obj_get_str(o->objs[i],
									 NFTNL_OBJ_NAME)));
		nftnl_obj_nlmsg_build_payload(nlh, o->objs[i]);
		batch_done(b, nlh);
	}
	for (size_t i = 0; i < o->n_fts; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWFLOWTABLE, NLM_F_CREATE, NULL,
				xasprintf("flowtable %s",
					  nftnl_flowtable_get_str(o->fts[i],
								  NFTNL_FLOWTABLE_NAME)));
		nftnl_flowtable_nlmsg_build_payload(nlh, o->fts[i]);
		batch_done(b, nlh);
	}
	batch_chains(b, o);
	for (size_t i = 0; i < o->n_sets; i++) {
		struct nl_set *ns = &o->sets[i];

		nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, NULL,
				xasprintf("%s %s", set_kind(ns), ns->name));
		/* the kernel wants an id for every new set (unused here) */
		nftnl_set_set_u32(ns->s, NFTNL_SET_ID, ++b->set_id);
		nftnl_set_nlmsg_build_payload(nlh, ns->s);
		batch_done(b, nlh);
		batch_saved_elems(b, ns, elapsed_ms);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->n_rules; i++) {
			struct nl_rule *nr = &o->rules[i];

			if (rule_in_binding_chain(o, nr) != (pass == 0))
				continue;
			nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
					NULL, rule_what(nr));
			nftnl_rule_nlmsg_build_payload(nlh, nr->r);
			rule_drop_zero_dynset_timeout(nlh);
			batch_done(b, nlh);
		}
	}
}

/* sets (issue 14): a set the kernel updates from outside (flags dynamic). */
bool set_is_dynamic(const struct nl_set *ns)
{
	/* a per-source limit's set is made anew: its elements hold the
	 * rate they were made with (issue 14) */
	return !ns->anon && !ns->meter && nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) &&
	       (nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) & NFT_SET_EVAL);
}

static bool objs_have_dynamic(const struct pc_nl_objs *o)
{
	for (size_t i = 0; i < o->n_sets; i++)
		if (set_is_dynamic(&o->sets[i]))
			return true;
	return false;
}

void batch_named(struct pc_nl_batch *b, const char *table, uint16_t type,
			const char *name, uint32_t obj_type)
{
	struct nlmsghdr *nlh;
	uint16_t flags = type == NFT_MSG_NEWCHAIN || type == NFT_MSG_NEWSET ||
			 type == NFT_MSG_NEWOBJ ? NLM_F_CREATE : 0;

	nlh = batch_msg(b, type, flags, NULL, xasprintf("%s %s",
			type == NFT_MSG_DELCHAIN || type == NFT_MSG_NEWCHAIN ? "chain" :
			type == NFT_MSG_DELOBJ ? "object" : "set", name));
	if (type == NFT_MSG_DELCHAIN || type == NFT_MSG_NEWCHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nftnl_chain_free(c);
	} else if (type == NFT_MSG_DELOBJ) {
		struct nftnl_obj *ob = nftnl_obj_alloc();

		nftnl_obj_set_str(ob, NFTNL_OBJ_TABLE, table);
		nftnl_obj_set_str(ob, NFTNL_OBJ_NAME, name);
		nftnl_obj_set_u32(ob, NFTNL_OBJ_TYPE, obj_type);
		nftnl_obj_nlmsg_build_payload(nlh, ob);
		nftnl_obj_free(ob);
	} else {
		struct nftnl_set *st = nftnl_set_alloc();

		nftnl_set_set_str(st, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(st, NFTNL_SET_NAME, name);
		nftnl_set_nlmsg_build_payload(nlh, st);
		nftnl_set_free(st);
	}
	batch_done(b, nlh);
}

uint64_t set_u64(const struct nl_set *ns, uint16_t attr)
{
	return nftnl_set_is_set(ns->s, attr) ? nftnl_set_get_u64(ns->s, attr) : 0;
}

uint32_t set_u32(const struct nl_set *ns, uint16_t attr)
{
	return nftnl_set_is_set(ns->s, attr) ? nftnl_set_get_u32(ns->s, attr) : 0;
}

/* A live set that the new contents keep as it is: a dynamic set of the
 * same name, kind and timeout (its elements stay). */
static bool set_kept(const struct pc_nl_objs *o, const struct nl_set *live)
{
	const uint32_t kind = NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_EVAL |
			      NFT_SET_MAP | NFT_SET_CONCAT;

	if (live->anon)
		return false;
	for (size_t i = 0; i < o->n_sets; i++) {
		const struct nl_set *ns = &o->sets[i];

		if (!set_is_dynamic(ns) || strcmp(ns->name, live->name) != 0)
			continue;
		return (set_u32(ns, NFTNL_SET_FLAGS) & kind) == (set_u32(live, NFTNL_SET_FLAGS) & kind) &&
		       set_u32(ns, NFTNL_SET_KEY_TYPE) == set_u32(live, NFTNL_SET_KEY_TYPE) &&
		       set_u32(ns, NFTNL_SET_KEY_LEN) == set_u32(live, NFTNL_SET_KEY_LEN) &&
		       set_u64(ns, NFTNL_SET_TIMEOUT) == set_u64(live, NFTNL_SET_TIMEOUT);
	}
	return false;
}

/* Deletes flowtable @live_ft of @table by its name only: with its hook the
 * kernel would delete devices. */
void batch_del_flowtable(struct pc_nl_batch *b, const char *table,
			 const struct nftnl_flowtable *live_ft)
{
	struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
	const char *name = nftnl_flowtable_get_str(live_ft, NFTNL_FLOWTABLE_NAME);
	struct nlmsghdr *nlh;

	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_TABLE, table);
	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_NAME, name);
	nlh = batch_msg(b, NFT_MSG_DELFLOWTABLE, 0, NULL, xasprintf("flowtable %s", name));
	nftnl_flowtable_nlmsg_build_payload(nlh, ft);
	nftnl_flowtable_free(ft);
	batch_done(b, nlh);
}

/*
 * sets (issue 14): replace the table's contents but keep the table and its
 * dynamic sets, elements and all (what fail2ban added a second ago
 * included: nothing is read and written back). The live table is read
 * for the names of what it holds: every rule of the table goes, then
 * every chain, named object, flowtable and set, except the dynamic sets
 * the new contents have in the same form; the caller then adds the new
 * contents (a kept set's declaration is accepted as it stands). A dynamic
 * set whose kind or timeout changed is replaced, empty.
 */
static void batch_keep_dynamic(struct pc_nl_batch *b, const char *table,
			       const struct pc_nl_objs *o)
{
	struct pc_nl_objs *live = NULL;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	batch_table(b, table, NFT_MSG_NEWTABLE, o);
	/* no table yet, or unreadable: the adds below create everything, and
	 * a read error shows when the batch is sent */
	if (pc_nl_objs_read(table, &live) < 0 || !live)
		return;
	r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nlh = batch_msg(b, NFT_MSG_DELRULE, 0, NULL, xasprintf("rules of table inet %s", table));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	batch_done(b, nlh);
	for (size_t i = 0; i < live->n_chains; i++)
		batch_named(b, table, NFT_MSG_DELCHAIN,
			    nftnl_chain_get_str(live->chains[i], NFTNL_CHAIN_NAME), 0);
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].anon && !set_kept(o, &live->sets[i]))
			batch_named(b, table, NFT_MSG_DELSET, live->sets[i].name, 0);
	for (size_t i = 0; i < live->n_objs; i++)
		batch_named(b, table, NFT_MSG_DELOBJ,
			    nftnl_obj_get_str(live->objs[i], NFTNL_OBJ_NAME),
			    nftnl_obj_get_u32(live->objs[i], NFTNL_OBJ_TYPE));
	for (size_t i = 0; i < live->n_fts; i++)
		batch_del_flowtable(b, table, live->fts[i]);
	pc_nl_objs_destroy(live);
}

void batch_rule(struct pc_nl_batch *b, struct pc_nl_objs *o, struct nl_rule *nr,
		uint64_t before)
{
	struct nlmsghdr *nlh;

	for (size_t k = 0; k < nr->n_lk; k++) {
		struct nl_set *ns = &o->sets[nr->lk[k].set];
		uint32_t id;

		if (!ns->anon)
			continue;
		id = ++b->set_id;
		batch_set(b, ns, ns->name, id, rule_loc(nr));
		nftnl_expr_set_u32(nr->lk[k].expr, NFTNL_EXPR_LOOKUP_SET_ID, id);
	}
	if (before)   /* without NLM_F_APPEND: before that rule */
		nftnl_rule_set_u64(nr->r, NFTNL_RULE_POSITION, before);
	nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | (before ? 0 : NLM_F_APPEND),
			rule_loc(nr), rule_what(nr));
	nftnl_rule_nlmsg_build_payload(nlh, nr->r);
	batch_done(b, nlh);
}

uint32_t batch_set_id(struct pc_nl_batch *b)
{
	return ++b->set_id;
}

struct pc_nl_batch *batch_new(uint32_t genid)
{
	struct pc_nl_batch *b = xzalloc(sizeof(*b));
	struct nlmsghdr *nlh;

	nlh = batch_msg(b, 0, 0, NULL, xstrdup("batch"));
	nftnl_batch_begin((char *)nlh, nlh->nlmsg_seq);
	/* the kernel refuses the batch (ERESTART) when the ruleset's
	 * generation is no longer @genid */
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	batch_done(b, nlh);
	return b;
}

void batch_commit(struct pc_nl_batch *b)
{
	struct nlmsghdr *nlh = batch_msg(b, 0, 0, NULL, xstrdup("batch end"));

	nftnl_batch_end((char *)nlh, nlh->nlmsg_seq);
	batch_done(b, nlh);
}

struct pc_nl_batch *pc_nl_batch_create(const char *table, struct pc_nl_objs *o,
				       bool commit)
{
	struct pc_nl_batch *b = batch_new(0);

	if (o && !o->from_kernel && objs_have_dynamic(o)) {
		batch_keep_dynamic(b, table, o);
	} else {
		batch_table(b, table, NFT_MSG_NEWTABLE, NULL);
		batch_table(b, table, NFT_MSG_DELTABLE, NULL);
	}
	if (o && o->from_kernel) {
		for (size_t i = 0; i < o->n_sets; i++)
			if (o->sets[i].unread)
				PC_BUG("set %s was read without its elements", o->sets[i].name);
		batch_table(b, table, NFT_MSG_NEWTABLE, o);
		batch_saved(b, o);
	} else if (o) {
		batch_table(b, table, NFT_MSG_NEWTABLE, o);
		for (size_t i = 0; i < o->n_objs; i++)
			batch_obj(b, o->objs[i], NULL);
		/* the chains before the named maps: an element that logs or
		 * rejects jumps to one (issue 15) */
		batch_chains(b, o);
		for (size_t i = 0; i < o->n_sets; i++)
			if (!o->sets[i].anon)
				batch_set(b, &o->sets[i], o->sets[i].name, ++b->set_id,
					  o->sets[i].loc);
		for (size_t i = 0; i < o->n_rules; i++)
			batch_rule(b, o, &o->rules[i], 0);
	}
	if (commit)
		batch_commit(b);
	return b;
}

struct pc_nl_batch *pc_nl_batch_from_plan(const struct pc_nft_plan *plan, bool commit)
{
	struct pc_nl_objs *o = pc_nl_objs_from_plan(plan);
	struct pc_nl_batch *b = pc_nl_batch_create(plan->table, o, commit);

	pc_nl_objs_destroy(o);
	return b;
}

void pc_nl_batch_destroy(struct pc_nl_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_map; i++)
		free(b->map[i].what);
	free(b->map);
	if (b->buf.data)
		munmap(b->buf.data, b->buf.cap);
	free(b);
}

size_t pc_nl_batch_size(const struct pc_nl_batch *b)
{
	return b->buf.len;
}

static const struct seq_loc *map_find(const struct pc_nl_batch *b, uint32_t seq)
{
	for (size_t i = 0; i < b->n_map; i++)
		if (b->map[i].seq == seq)
			return &b->map[i];
	return NULL;
}

/* One error answer: report it at the location of the message it is about. */
static void report_error(const struct pc_nl_batch *b, const struct nlmsghdr *nlh,
			 struct pc_diag *diag)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	const struct seq_loc *sl = map_find(b, err->msg.nlmsg_seq);
	const char *ext = NULL;
	char *what = NULL;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*err);
		const struct nlattr *attr;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - sizeof(err->msg);
		mnl_attr_for_each(attr, nlh, off) {
			if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
				ext = mnl_attr_get_str(attr);
		}
	}
	if (sl && !sl->what && sl->chain)
		what = xasprintf("rule in chain %s%s%s%s", sl->chain,
				 sl->comment ? " (comment \"" : "",
				 sl->comment ? sl->comment : "",
				 sl->comment ? "\")" : "");
	pc_diag_error(diag, sl ? sl->loc : NULL,
		      "the kernel refused the %s: %s%s%s%s",
		      what ? what : sl && sl->what ? sl->what : "batch",
		      strerror(-err->error),
		      ext ? ": " : "", ext ? ext : "",
		      err->error == -EPERM ? " (another program owns this table)" : "");
	free(what);
}

const void *pc_nl_batch_data(const struct pc_nl_batch *b, size_t *len)
{
	*len = b->buf.len;
	return b->buf.data;
}

void pc_nl_batch_report(const struct pc_nl_batch *b, const void *err_msg,
			struct pc_diag *diag)
{
	report_error(b, err_msg, diag);
}

int pc_nl_batch_send(struct pc_nl_batch *b, struct pc_diag *diag)
{
	struct mnl_socket *nl;
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf = NULL;
	int ret = 0, fd, sz;
	size_t more = 0;
	bool refused = false, permission = false, stale = false;

	nl = nl_open(&ret);
	if (!nl)
		return ret;
	fd = mnl_socket_get_fd(nl);
	sz = b->buf.len + 65536 > INT_MAX ? INT_MAX : (int)(b->buf.len + 65536);
	/* The whole batch goes in one sendmsg() and the kernel runs it there. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	sz = 1 << 22;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mnl_socket_sendto(nl, b->buf.data, b->buf.len) < 0) {
		ret = -errno;
		goto out;
	}
	/*
	 * nfnetlink processes the batch inside sendmsg(): whatever it has to
	 * say (errors; no acks were asked for) is queued by now.
	 */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		goto out;
	}
	buf = xmalloc(bufsz);
	for (;;) {
		ssize_t n = recv(fd, buf, bufsz, 0);
		const struct nlmsghdr *nlh;
		int left;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *err;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error == 0)
				continue;
			/*
			 * Without CAP_NET_ADMIN nfnetlink refuses the batch as a
			 * whole, answering its first message; an EPERM about one
			 * object (a table another process owns) is a refusal.
			 */
			if (err->error == -EPERM && b->n_map &&
			    err->msg.nlmsg_seq == b->map[0].seq) {
				permission = true;
				continue;
			}
			/* a re-apply's generation is no longer the ruleset's */
			if (err->error == -ERESTART && b->n_map &&
			    err->msg.nlmsg_seq == b->map[0].seq) {
				stale = true;
				continue;
			}
			/*
			 * Later messages usually fail because of the first
			 * (the objects they refer to were refused): report the
			 * first, count the others.
			 */
			if (!refused)
				report_error(b, nlh, diag);
			else
				more++;
			refused = true;
		}
	}
	if (permission) {
		ret = -EPERM;
	} else if (stale) {
		ret = -ERESTART;
	} else if (refused) {
		if (more)
			pc_diag_note(diag, NULL,
				     "%zu later message%s of the transaction %s refused as well",
				     more, more == 1 ? "" : "s", more == 1 ? "was" : "were");
		ret = 1;
	}
out:
	free(buf);
	mnl_socket_close(nl);
	return ret;
}
