/* SPDX-License-Identifier: MIT */
/*
 * Sockets, and reading a table back from the kernel into the same objects.
 */
#include "backends/netlink/nl_internal.h"

/* Sockets. */

struct mnl_socket *nl_open(int *err)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int one = 1;

	if (!nl) {
		*err = -errno;
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		*err = -errno;
		mnl_socket_close(nl);
		return NULL;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
}

/* Sends one request and runs @cb on each answer until the dump is done. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf = xmalloc(bufsz);
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, bufsz);

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret < 0) {
			ret = -errno;
			goto out;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			goto out;
		}
	}
out:
	free(buf);
	return ret;
}

/* Reading. */

struct read_ctx {
	struct pc_nl_objs *o;
	struct nl_set *set; /* GETSETELEM target */
	struct nl_name *anon; /* the anonymous sets by name, for the rules */
	size_t n_anon;
};

static int nl_name_cmp(const void *a, const void *b)
{
	const struct nl_name *x = a, *y = b;

	return strcmp(x->name, y->name);
}

struct nl_name *sets_by_name(const struct pc_nl_objs *o, bool anon, size_t *n)
{
	struct nl_name *v = xcalloc(o->n_sets + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < o->n_sets; i++) {
		if (o->sets[i].anon != anon)
			continue;
		v[*n].name = o->sets[i].name;
		v[*n].i = i;
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), nl_name_cmp);
	return v;
}

struct nl_name *chains_by_name(const struct pc_nl_objs *o, size_t *n)
{
	struct nl_name *v = xcalloc(o->n_chains + 1, sizeof(*v));

	for (size_t i = 0; i < o->n_chains; i++) {
		v[i].name = nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME);
		v[i].i = i;
	}
	*n = o->n_chains;
	qsort(v, *n, sizeof(*v), nl_name_cmp);
	return v;
}

ssize_t name_find(const struct nl_name *v, size_t n, const char *name)
{
	struct nl_name key = { name, 0 };
	const struct nl_name *hit = name ? bsearch(&key, v, n, sizeof(*v), nl_name_cmp) : NULL;

	return hit ? (ssize_t)hit->i : -1;
}

/* A NUL-terminated comment attribute of type @type: a copy in *out. */
static void udata_comment(const struct nftnl_udata *attr, uint8_t type, char **out)
{
	uint32_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == type && len > 0 && v[len - 1] == '\0') {
		free(*out);
		*out = xstrdup(v);
	}
}

static int table_udata_cb(const struct nftnl_udata *attr, void *data)
{
	udata_comment(attr, NFTNL_UDATA_TABLE_COMMENT, data);
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		PC_BUG("out of memory");
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		if (nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
			rc->o->table_flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		if (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) {
			uint32_t len;
			const void *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

			rc->o->table_udata = xmalloc(len ? len : 1);
			memcpy(rc->o->table_udata, u, len);
			rc->o->table_udata_len = len;
			nftnl_udata_parse(u, len, table_udata_cb, &rc->o->table_comment);
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nl_set *ns;
	const char *table;

	if (!s)
		PC_BUG("out of memory");
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	ns = objs_add_set(rc->o);
	ns->s = s;
	ns->name = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	ns->anon = nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
		   (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS);
	nftnl_set_unset(s, NFTNL_SET_HANDLE);
	return MNL_CB_OK;
}

struct elem_udata {
	bool open;
	char *comment;
};

static int elem_udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct elem_udata *eu = data;
	uint32_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_FLAGS && len == 4) {
		uint32_t f;

		memcpy(&f, v, 4);
		if (f & 1)   /* NFTNL_SET_ELEM_F_INTERVAL_OPEN */
			eu->open = true;
	}
	udata_comment(attr, NFTNL_UDATA_SET_ELEM_COMMENT, &eu->comment);
	return 0;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *tmp = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!tmp)
		PC_BUG("out of memory");
	if (nftnl_set_elems_nlmsg_parse(nlh, tmp) < 0) {
		nftnl_set_free(tmp);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(tmp);
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0, end_len = 0, flags = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		const void *end = NULL;
		struct elem_udata eu = { false, NULL };
		struct nl_elem *ne;

		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
			uint32_t ulen;
			const void *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);

			nftnl_udata_parse(u, ulen, elem_udata_cb, &eu);
		}
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
			end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &end_len);
		if (!key || len > KEY_MAX || (end && end_len != len)) {
			free(eu.comment);
			continue;
		}
		ne = set_add_elem(rc->set, key, len, flags, eu.open);
		ne->comment = eu.comment;
		if (end)
			elem_set_end(ne, end);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
			ne->has_verdict = true;
			ne->verdict = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
		}
		/* a jump of a dispatch (issue 15) */
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
			ne->chain = xstrdup(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	rc->set->raw = xrealloc(rc->set->raw, (rc->set->n_raw + 1) * sizeof(*rc->set->raw));
	rc->set->raw[rc->set->n_raw++] = tmp;
	return MNL_CB_OK;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_obj *ob = nftnl_obj_alloc();
	const char *table;

	if (!ob)
		PC_BUG("out of memory");
	if (nftnl_obj_nlmsg_parse(nlh, ob) < 0) {
		nftnl_obj_free(ob);
		return MNL_CB_ERROR;
	}
	table = nftnl_obj_get_str(ob, NFTNL_OBJ_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_obj_free(ob);
		return MNL_CB_OK;
	}
	/* (libnftnl exports no unset for objects: NEWOBJ ignores the handle) */
	rc->o->objs = xgrow(rc->o->objs, &rc->o->objs_cap, rc->o->n_objs + 1,
			    sizeof(*rc->o->objs));
	rc->o->objs[rc->o->n_objs++] = ob;
	return MNL_CB_OK;
}

static int flowtable_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
	const char *table;

	if (!ft)
		PC_BUG("out of memory");
	if (nftnl_flowtable_nlmsg_parse(nlh, ft) < 0) {
		nftnl_flowtable_free(ft);
		return MNL_CB_ERROR;
	}
	table = nftnl_flowtable_get_str(ft, NFTNL_FLOWTABLE_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_flowtable_free(ft);
		return MNL_CB_OK;
	}
	nftnl_flowtable_unset(ft, NFTNL_FLOWTABLE_HANDLE);
	nftnl_flowtable_unset(ft, NFTNL_FLOWTABLE_USE);
	rc->o->fts = xgrow(rc->o->fts, &rc->o->fts_cap, rc->o->n_fts + 1,
			   sizeof(*rc->o->fts));
	rc->o->fts[rc->o->n_fts++] = ft;
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table;

	if (!c)
		PC_BUG("out of memory");
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
	nftnl_chain_unset(c, NFTNL_CHAIN_USE);
	nftnl_chain_unset(c, NFTNL_CHAIN_BYTES);
	nftnl_chain_unset(c, NFTNL_CHAIN_PACKETS);
	objs_add_chain(rc->o, c);
	return MNL_CB_OK;
}

static int rule_udata_cb(const struct nftnl_udata *attr, void *data)
{
	udata_comment(attr, NFTNL_UDATA_RULE_COMMENT, data);
	return 0;
}

struct lookup_bind {
	const struct read_ctx *rc;
	struct nl_rule *nr;
};

static int bind_lookup(struct nftnl_expr *e, void *data)
{
	struct lookup_bind *lb = data;
	ssize_t i;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") != 0)
		return 0;
	i = name_find(lb->rc->anon, lb->rc->n_anon, nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	if (i >= 0) {
		struct nl_rule *nr = lb->nr;

		nr->lk = xrealloc(nr->lk, (nr->n_lk + 1) * sizeof(*nr->lk));
		nr->lk[nr->n_lk].expr = e;
		nr->lk[nr->n_lk].set = (size_t)i;
		nr->n_lk++;
	}
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct lookup_bind lb;
	struct nl_rule *nr;
	const char *table;

	if (!r)
		PC_BUG("out of memory");
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	nr = objs_add_rule(rc->o);
	if (nftnl_rule_is_set(r, NFTNL_RULE_HANDLE))
		nr->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nr->r = r;
	nr->chain = xstrdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
		uint32_t len;
		const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

		nftnl_udata_parse(u, len, rule_udata_cb, &nr->comment);
	}
	lb.rc = rc;
	lb.nr = nr;
	nftnl_expr_foreach(r, bind_lookup, &lb);
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();

	if (!g)
		PC_BUG("out of memory");
	if (nftnl_gen_nlmsg_parse(nlh, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID))
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

/* The ruleset's generation now (NFT_MSG_GETGEN); 0 when unknown. */
static uint32_t read_genid(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t id = 0;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq_next());
	if (nl_talk(nl, nlh, gen_cb, &id) < 0)
		return 0;
	return id;
}

static uint32_t nl_seq;

uint32_t seq_next(void)
{
	if (nl_seq == 0)
		nl_seq = (uint32_t)time(NULL);
	return ++nl_seq;
}

/*
 * The largest set whose elements pc_nl_objs_read_for() reads: the kernel's
 * interval set (rbtree) restarts its walk from the first element for each
 * 32 KiB of a dump, so that listing 120,000 elements (a 60,000-prefix
 * group) took 0.25 s of kernel time, more than creating them; its hash
 * sets skip from the first bucket the same way (a million addresses: 10 s
 * of kernel time to read back, against 0.7 s to make).
 */
#define NL_READ_ELEMS_MAX 10000

/* The elements of live set @ls are of no use to a re-apply of @plan. */
static bool elems_unneeded(const struct pc_nft_plan *plan, const struct nl_set *ls)
{
	uint32_t flags = nftnl_set_is_set(ls->s, NFTNL_SET_FLAGS) ?
			 nftnl_set_get_u32(ls->s, NFTNL_SET_FLAGS) : 0;
	/* the size a hash set was declared with (portcullis declares it) */
	uint32_t live_size = nftnl_set_is_set(ls->s, NFTNL_SET_DESC_SIZE) ?
			     nftnl_set_get_u32(ls->s, NFTNL_SET_DESC_SIZE) : 0;

	if (!plan || ls->anon)
		return false;
	for (size_t i = 0; i < plan->n_maps; i++)
		if (strcmp(plan->maps[i]->name, ls->name) == 0)
			return false;
	for (size_t i = 0; i < plan->n_sets; i++) {
		const struct pc_nft_set *ps = plan->sets[i];

		if (strcmp(ps->name, ls->name) != 0)
			continue;
		return ps->dynamic || ps->meter ||
		       (!(flags & NFT_SET_CONCAT) &&
			(ps->n > NL_READ_ELEMS_MAX || live_size > NL_READ_ELEMS_MAX));
	}
	return true;
}

/* One read of the table, in several dumps (see pc_nl_objs_read()). */
static int read_once(struct mnl_socket *nl, const char *table, const struct pc_nft_plan *plan,
		     struct pc_nl_objs **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct read_ctx rc;
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	struct nftnl_obj *ob;
	struct nftnl_flowtable *ft;
	int ret = 0;

	*out = NULL;
	rc.o = xzalloc(sizeof(*rc.o));
	rc.o->table = xstrdup(table);
	rc.set = NULL;
	rc.anon = NULL;
	rc.n_anon = 0;

	t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    seq_next());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_talk(nl, nlh, table_cb, &rc);
	if (ret == -ENOENT) {
		ret = 0;
		goto fail;
	}
	if (ret < 0)
		goto fail;
	rc.o->from_kernel = true;
	clock_gettime(CLOCK_MONOTONIC, &rc.o->read_at);

	ob = nftnl_obj_alloc();
	nftnl_obj_set_str(ob, NFTNL_OBJ_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_obj_nlmsg_build_payload(nlh, ob);
	nftnl_obj_free(ob);
	ret = nl_talk(nl, nlh, obj_cb, &rc);
	if (ret < 0)
		goto fail;

	ft = nftnl_flowtable_alloc();
	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETFLOWTABLE, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_flowtable_nlmsg_build_payload(nlh, ft);
	nftnl_flowtable_free(ft);
	ret = nl_talk(nl, nlh, flowtable_cb, &rc);
	/* a kernel without flowtables has none to lose */
	if (ret == -EOPNOTSUPP || ret == -ENOENT)
		ret = 0;
	if (ret < 0)
		goto fail;

	s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = nl_talk(nl, nlh, set_cb, &rc);
	if (ret < 0)
		goto fail;
	for (size_t i = 0; i < rc.o->n_sets; i++) {
		if (elems_unneeded(plan, &rc.o->sets[i])) {
			rc.o->sets[i].unread = true;
			continue;
		}
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, rc.o->sets[i].name);
		memset(buf, 0, sizeof(buf));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
					    NLM_F_DUMP | NLM_F_ACK, seq_next());
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		rc.set = &rc.o->sets[i];
		ret = nl_talk(nl, nlh, elem_cb, &rc);
		if (ret < 0)
			goto fail;
	}

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	ret = nl_talk(nl, nlh, chain_cb, &rc);
	if (ret < 0)
		goto fail;

	r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	rc.anon = sets_by_name(rc.o, true, &rc.n_anon);
	ret = nl_talk(nl, nlh, rule_cb, &rc);
	if (ret < 0)
		goto fail;
	free(rc.anon);
	*out = rc.o;
	return 0;
fail:
	free(rc.anon);
	pc_nl_objs_destroy(rc.o);
	return ret;
}

/*
 * The table is read in several dumps (objects, sets, each set's
 * elements, chains, rules), and another process may commit between
 * them: the read counts only when the ruleset's generation is the same
 * before and after it. A re-apply (pc_nl_batch_update()) sends that
 * generation with its batch, and the kernel refuses the batch if the
 * ruleset changed since.
 */
static int objs_read(const char *table, const struct pc_nft_plan *plan,
		     struct pc_nl_objs **out)
{
	struct mnl_socket *nl;
	int ret = 0;

	*out = NULL;
	nl = nl_open(&ret);
	if (!nl)
		return ret;
	for (int tries = 0; tries < 8; tries++) {
		uint32_t before = read_genid(nl), after;

		ret = read_once(nl, table, plan, out);
		if (ret < 0 || !*out)
			break;
		after = read_genid(nl);
		if (before == after) {
			(*out)->genid = after;
			break;
		}
		pc_nl_objs_destroy(*out);
		*out = NULL;
		ret = -EAGAIN;
	}
	mnl_socket_close(nl);
	return ret;
}

int pc_nl_objs_read(const char *table, struct pc_nl_objs **out)
{
	return objs_read(table, NULL, out);
}

int pc_nl_objs_read_for(const struct pc_nft_plan *plan, struct pc_nl_objs **out)
{
	return objs_read(plan->table, plan, out);
}

int pc_nl_table_owner(const char *table, enum pc_nl_owner *owner)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct read_ctx rc;
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	int ret = 0;

	*owner = PC_NL_TABLE_NONE;
	nl = nl_open(&ret);
	if (!nl)
		return ret;
	rc.o = xzalloc(sizeof(*rc.o));
	rc.o->table = xstrdup(table);
	rc.set = NULL;
	rc.anon = NULL;
	rc.n_anon = 0;
	t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    seq_next());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_talk(nl, nlh, table_cb, &rc);
	if (ret == 0)
		*owner = pc_nl_objs_owner(rc.o);
	else if (ret == -ENOENT)
		ret = 0;
	mnl_socket_close(nl);
	pc_nl_objs_destroy(rc.o);
	return ret;
}

enum pc_nl_owner pc_nl_objs_owner(const struct pc_nl_objs *o)
{
	if (!o)
		return PC_NL_TABLE_NONE;
	return o->table_comment && strcmp(o->table_comment, PC_NL_OWNER_COMMENT) == 0 ?
	       PC_NL_TABLE_OURS : PC_NL_TABLE_FOREIGN;
}

bool pc_nl_objs_process_owned(const struct pc_nl_objs *o)
{
	return o && (o->table_flags & NFT_TABLE_F_OWNER);
}
