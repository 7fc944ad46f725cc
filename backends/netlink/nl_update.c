/* SPDX-License-Identifier: MIT */
/*
 * Re-apply (issue 15): the transaction of `apply` over a table it made
 * before, holding only what differs from it (pc_nl_batch_update()).
 */
#include "backends/netlink/nl_internal.h"

/*
 * When the table is already there and ours, the transaction sends only
 * what differs from it:
 *  - a chain whose rules are the same (the canonical text diff compares:
 *    every expression, the anonymous sets by their elements, the comment;
 *    counters aside) and that refers to nothing that goes stays as it
 *    is, handles and counters included; in a chain that differs the
 *    longest common run of rules stays and the others are deleted and
 *    inserted (struct chain_edit);
 *  - a named set declared the same stays when its elements are the same;
 *    otherwise a hash set gets and loses the elements that changed, an
 *    interval set is flushed and filled, and a verdict map (a
 *    concatenation) is made anew, as is a set declared otherwise, after
 *    the rules that use it have gone (they are made anew too);
 *  - the kernel lists sets, objects and chains in the order they were
 *    made: what follows, in the plan's order, something made anew is made
 *    anew too (upd_order_sets()), so that `nft list ruleset` shows what
 *    it shows after a fresh apply or `nft -f` (tests/netns/reapply.sh,
 *    tests/netlink/nl_selftest.c "reapply" compare them).
 */

/* What a re-apply does with a named set or object of the plan. */
enum upd_fate {
	UPD_NEW,     /* not in the table: created */
	UPD_KEEP,    /* the same in the table: nothing is sent, its state stays */
	UPD_REFILL,  /* declared the same, other elements: they change in place */
	UPD_REPLACE, /* declared otherwise: deleted after its rules, then created */
};

struct upd {
	struct pc_nl_objs *o;
	const struct pc_nl_objs *live;
	/* the named sets and the chains of both sides by name */
	struct nl_name *o_sets, *live_sets, *o_chains, *live_chains;
	size_t n_o_sets, n_live_sets, n_o_chains, n_live_chains;
	enum upd_fate *set_fate;   /* per o->sets (named ones) */
	bool *live_set_goes;       /* per live->sets (named ones): deleted */
	enum upd_fate *obj_fate;   /* per o->objs */
	bool *live_obj_goes;       /* per live->objs */
};

static ssize_t obj_find(const struct pc_nl_objs *o, struct nftnl_obj *ob)
{
	for (size_t i = 0; i < o->n_objs; i++)
		if (nftnl_obj_get_u32(o->objs[i], NFTNL_OBJ_TYPE) ==
		    nftnl_obj_get_u32(ob, NFTNL_OBJ_TYPE) &&
		    strcmp(nftnl_obj_get_str(o->objs[i], NFTNL_OBJ_NAME),
			   nftnl_obj_get_str(ob, NFTNL_OBJ_NAME)) == 0)
			return (ssize_t)i;
	return -1;
}

static int expr_name_cb(struct nftnl_expr *e, void *data)
{
	struct pc_buf *names = data;

	pc_buf_printf(names, "%s ", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	return 0;
}

/* The names of a set's expressions (a map's counters), "" for none. */
static char *set_expr_names(const struct nl_set *ns)
{
	struct pc_buf names;

	pc_buf_init(&names);
	nftnl_set_expr_foreach(ns->s, expr_name_cb, &names);
	return names.data ? names.data : xstrdup("");
}

/* A plan's set and a live one declared the same: kind, key, data, timeout, user data, expressions. */
static bool set_decl_same(const struct nl_set *w, const struct nl_set *l)
{
	const uint32_t kind = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL |
			      NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL |
			      NFT_SET_OBJECT | NFT_SET_CONCAT;
	uint32_t wlen = 0, llen = 0;
	const void *wu = nftnl_set_is_set(w->s, NFTNL_SET_USERDATA) ?
			 nftnl_set_get_data(w->s, NFTNL_SET_USERDATA, &wlen) : NULL;
	const void *lu = nftnl_set_is_set(l->s, NFTNL_SET_USERDATA) ?
			 nftnl_set_get_data(l->s, NFTNL_SET_USERDATA, &llen) : NULL;
	char *we, *le;
	bool same;

	if ((set_u32(w, NFTNL_SET_FLAGS) & kind) != (set_u32(l, NFTNL_SET_FLAGS) & kind) ||
	    set_u32(w, NFTNL_SET_KEY_TYPE) != set_u32(l, NFTNL_SET_KEY_TYPE) ||
	    set_u32(w, NFTNL_SET_KEY_LEN) != set_u32(l, NFTNL_SET_KEY_LEN) ||
	    set_u32(w, NFTNL_SET_DATA_TYPE) != set_u32(l, NFTNL_SET_DATA_TYPE) ||
	    /* a verdict's length is the kernel's (nft sends 0, it reports 16) */
	    (set_u32(w, NFTNL_SET_DATA_TYPE) != NFT_DATA_VERDICT &&
	     set_u32(w, NFTNL_SET_DATA_LEN) != set_u32(l, NFTNL_SET_DATA_LEN)) ||
	    set_u64(w, NFTNL_SET_TIMEOUT) != set_u64(l, NFTNL_SET_TIMEOUT) ||
	    /* a hash set's size bounds it (and nft lists it) */
	    set_u32(w, NFTNL_SET_DESC_SIZE) != set_u32(l, NFTNL_SET_DESC_SIZE) ||
	    wlen != llen || (wlen && memcmp(wu, lu, wlen) != 0))
		return false;
	we = set_expr_names(w);
	le = set_expr_names(l);
	same = strcmp(we, le) == 0;
	free(we);
	free(le);
	return same;
}

static int str_cmp_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

/* Elements in an order of all they hold: key, flags, end, verdict, jump, comment. */
static int elem_cmp(const void *pa, const void *pb)
{
	const struct nl_elem *a = *(const struct nl_elem *const *)pa;
	const struct nl_elem *b = *(const struct nl_elem *const *)pb;
	int c;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if ((c = memcmp(a->key, b->key, a->len)) != 0)
		return c;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	if (a->has_end != b->has_end)
		return a->has_end ? 1 : -1;
	if (a->has_end && (c = memcmp(a->key_end, b->key_end, a->len)) != 0)
		return c;
	if (a->open != b->open)
		return a->open ? 1 : -1;
	if (a->has_verdict != b->has_verdict)
		return a->has_verdict ? 1 : -1;
	if (a->has_verdict && a->verdict != b->verdict)
		return a->verdict < b->verdict ? -1 : 1;
	if ((c = str_cmp_null(a->chain, b->chain)) != 0)
		return c;
	return str_cmp_null(a->comment, b->comment);
}

static const struct nl_elem **elems_by_value(const struct nl_set *ns)
{
	const struct nl_elem **v = xcalloc(ns->n + 1, sizeof(*v));

	for (size_t i = 0; i < ns->n; i++)
		v[i] = &ns->e[i];
	qsort(v, ns->n, sizeof(*v), elem_cmp);
	return v;
}

/*
 * The same elements, byte for byte (keys, interval marks, verdicts,
 * comments), in any order: the kernel keeps the elements a batch sends
 * as they are, so a table applied from the same plan compares equal. (A
 * difference of form only would make a set refilled, never kept wrongly.)
 */
static bool set_elems_same(const struct nl_set *w, const struct nl_set *l)
{
	const struct nl_elem **vw, **vl;
	bool same = w->n == l->n;

	if (!same)
		return false;
	vw = elems_by_value(w);
	vl = elems_by_value(l);
	for (size_t i = 0; same && i < w->n; i++)
		same = elem_cmp(&vw[i], &vl[i]) == 0;
	free(vw);
	free(vl);
	return same;
}

static uint64_t obj_u64(struct nftnl_obj *ob, uint16_t attr)
{
	return nftnl_obj_is_set(ob, attr) ? nftnl_obj_get_u64(ob, attr) : 0;
}

static uint32_t obj_u32(struct nftnl_obj *ob, uint16_t attr)
{
	return nftnl_obj_is_set(ob, attr) ? nftnl_obj_get_u32(ob, attr) : 0;
}

/* A plan's named object (a limit) the same as a live one: its tokens can stay. */
static bool obj_same(struct nftnl_obj *w, struct nftnl_obj *l)
{
	return obj_u32(w, NFTNL_OBJ_TYPE) == NFT_OBJECT_LIMIT &&
	       obj_u32(l, NFTNL_OBJ_TYPE) == NFT_OBJECT_LIMIT &&
	       obj_u64(w, NFTNL_OBJ_LIMIT_RATE) == obj_u64(l, NFTNL_OBJ_LIMIT_RATE) &&
	       obj_u64(w, NFTNL_OBJ_LIMIT_UNIT) == obj_u64(l, NFTNL_OBJ_LIMIT_UNIT) &&
	       obj_u32(w, NFTNL_OBJ_LIMIT_BURST) == obj_u32(l, NFTNL_OBJ_LIMIT_BURST) &&
	       obj_u32(w, NFTNL_OBJ_LIMIT_TYPE) == obj_u32(l, NFTNL_OBJ_LIMIT_TYPE) &&
	       obj_u32(w, NFTNL_OBJ_LIMIT_FLAGS) == obj_u32(l, NFTNL_OBJ_LIMIT_FLAGS);
}

/*
 * The kernel lists a table's sets, objects and chains in the order they
 * were made, and a new one comes last: for `nft list` to show what a
 * fresh apply shows, what stays must come first in the plan's order, in
 * the same order as in the table, and everything after the first object
 * made (or the first out of order) is made anew too. (Dynamic sets keep
 * their elements wherever they stand, as before.)
 */
static void upd_order_sets(struct upd *u)
{
	ssize_t last = -1;
	bool forced = false;

	for (size_t i = 0; i < u->o->n_sets; i++) {
		const struct nl_set *ws = &u->o->sets[i];
		ssize_t l;

		if (ws->anon)
			continue;
		if (u->set_fate[i] == UPD_NEW || u->set_fate[i] == UPD_REPLACE) {
			forced = true;
			continue;
		}
		l = name_find(u->live_sets, u->n_live_sets, ws->name);
		if (!forced && l > last) {
			last = l;
			continue;
		}
		if (set_is_dynamic(ws))
			continue;
		u->set_fate[i] = UPD_REPLACE;
		u->live_set_goes[l] = true;
		forced = true;
	}
}

static void upd_order_objs(struct upd *u)
{
	ssize_t last = -1;
	bool forced = false;

	for (size_t i = 0; i < u->o->n_objs; i++) {
		ssize_t l;

		if (u->obj_fate[i] != UPD_KEEP) {
			forced = true;
			continue;
		}
		l = obj_find(u->live, u->o->objs[i]);
		if (!forced && l > last) {
			last = l;
			continue;
		}
		u->obj_fate[i] = UPD_REPLACE;
		u->live_obj_goes[l] = true;
		forced = true;
	}
}

/* Decides the fate of every named set and object, both sides. */
static void upd_classify(struct upd *u)
{
	const struct pc_nl_objs *live = u->live;
	struct pc_nl_objs *o = u->o;

	u->o_sets = sets_by_name(o, false, &u->n_o_sets);
	u->live_sets = sets_by_name(live, false, &u->n_live_sets);
	u->o_chains = chains_by_name(o, &u->n_o_chains);
	u->live_chains = chains_by_name(live, &u->n_live_chains);
	u->set_fate = xcalloc(o->n_sets + 1, sizeof(*u->set_fate));
	u->live_set_goes = xcalloc(live->n_sets + 1, sizeof(*u->live_set_goes));
	u->obj_fate = xcalloc(o->n_objs + 1, sizeof(*u->obj_fate));
	u->live_obj_goes = xcalloc(live->n_objs + 1, sizeof(*u->live_obj_goes));
	for (size_t i = 0; i < live->n_sets; i++)
		u->live_set_goes[i] = !live->sets[i].anon &&
				      name_find(u->o_sets, u->n_o_sets, live->sets[i].name) < 0;
	for (size_t i = 0; i < o->n_sets; i++) {
		const struct nl_set *ws = &o->sets[i];
		ssize_t l;

		if (ws->anon)
			continue;
		l = name_find(u->live_sets, u->n_live_sets, ws->name);
		if (l >= 0 && !live->sets[l].unread)
			nl_set_materialize(&o->sets[i]);   /* compared element by element */
		if (l < 0) {
			u->set_fate[i] = UPD_NEW;
		} else if (ws->meter || !set_decl_same(ws, &live->sets[l])) {
			/* a per-source limit's set is made anew, as before (its
			 * elements hold the rate they were made with) */
			u->set_fate[i] = UPD_REPLACE;
			u->live_set_goes[l] = true;
		} else if (!set_is_dynamic(ws) && live->sets[l].unread) {
			/* too large to have been read back: made anew */
			u->set_fate[i] = UPD_REPLACE;
			u->live_set_goes[l] = true;
		} else if (set_is_dynamic(ws) || set_elems_same(ws, &live->sets[l])) {
			/* a dynamic set keeps what other tools added */
			u->set_fate[i] = UPD_KEEP;
		} else if (set_u32(ws, NFTNL_SET_FLAGS) & NFT_SET_CONCAT) {
			/*
			 * A concatenation (a verdict map) is made anew: the
			 * kernel's set (pipapo) removes each element in time
			 * that grows with the set (a flush of thousands takes
			 * seconds) and lists them in the order they came, so
			 * that only a new set lists as a fresh apply's does.
			 */
			u->set_fate[i] = UPD_REPLACE;
			u->live_set_goes[l] = true;
		} else {
			u->set_fate[i] = UPD_REFILL;
		}
	}
	for (size_t i = 0; i < live->n_objs; i++)
		u->live_obj_goes[i] = obj_find(o, live->objs[i]) < 0;
	for (size_t i = 0; i < o->n_objs; i++) {
		ssize_t l = obj_find(live, o->objs[i]);

		if (l < 0) {
			u->obj_fate[i] = UPD_NEW;
		} else if (obj_same(o->objs[i], live->objs[l])) {
			u->obj_fate[i] = UPD_KEEP;
		} else {
			u->obj_fate[i] = UPD_REPLACE;
			u->live_obj_goes[l] = true;
		}
	}
	upd_order_sets(u);
	upd_order_objs(u);
}

static void upd_free(struct upd *u)
{
	free(u->o_sets);
	free(u->live_sets);
	free(u->o_chains);
	free(u->live_chains);
	free(u->set_fate);
	free(u->live_set_goes);
	free(u->obj_fate);
	free(u->live_obj_goes);
}

struct refers_ctx {
	const struct upd *u;
	bool goes;
};

static bool live_set_goes(const struct upd *u, const char *name)
{
	ssize_t i = name_find(u->live_sets, u->n_live_sets, name);

	return i >= 0 && u->live_set_goes[i];
}

/* A live rule's expression that names a set or object which goes. */
static int refers_cb(struct nftnl_expr *e, void *data)
{
	struct refers_ctx *rc = data;
	const struct pc_nl_objs *live = rc->u->live;
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(kind, "lookup") == 0 &&
	    live_set_goes(rc->u, nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET)))
		rc->goes = true;
	if (strcmp(kind, "dynset") == 0 &&
	    live_set_goes(rc->u, nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME)))
		rc->goes = true;
	if (strcmp(kind, "objref") == 0) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_SET_NAME) &&
		    live_set_goes(rc->u, nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_SET_NAME)))
			rc->goes = true;
		for (size_t i = 0; nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_IMM_NAME) &&
				   i < live->n_objs; i++)
			if (rc->u->live_obj_goes[i] &&
			    strcmp(nftnl_obj_get_str(live->objs[i], NFTNL_OBJ_NAME),
				   nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME)) == 0)
				rc->goes = true;
	}
	return 0;
}

struct jumps_ctx {
	const struct upd *u;
	const bool *chain_goes;   /* per live->chains */
	const struct nl_rule *nr;
	bool goes;
};

static bool live_chain_goes(const struct jumps_ctx *jc, const char *name)
{
	ssize_t i = name_find(jc->u->live_chains, jc->u->n_live_chains, name);

	return i >= 0 && jc->chain_goes[i];
}

/* A live rule's jump or goto (a verdict, or an anonymous map's) to a chain that goes. */
static int jumps_cb(struct nftnl_expr *e, void *data)
{
	struct jumps_ctx *jc = data;
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(kind, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN) &&
	    live_chain_goes(jc, nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN)))
		jc->goes = true;
	for (size_t k = 0; k < jc->nr->n_lk; k++) {
		const struct nl_set *ns = &jc->u->live->sets[jc->nr->lk[k].set];

		if (jc->nr->lk[k].expr != e)
			continue;
		for (size_t i = 0; i < ns->n; i++)
			if (ns->e[i].chain && live_chain_goes(jc, ns->e[i].chain))
				jc->goes = true;
	}
	return 0;
}

static bool rule_jumps_gone(const struct upd *u, const bool *chain_goes,
			    const struct nl_rule *nr)
{
	struct jumps_ctx jc = { u, chain_goes, nr, false };

	nftnl_expr_foreach(nr->r, jumps_cb, &jc);
	return jc.goes;
}

static bool rule_refers_gone(const struct upd *u, const struct nl_rule *nr)
{
	struct refers_ctx rc = { u, false };

	nftnl_expr_foreach(nr->r, refers_cb, &rc);
	return rc.goes;
}

/* Rules sorted by chain name, then by their place in the chain. */
struct rule_ref {
	const char *chain;
	size_t i;
};

static int rule_ref_cmp(const void *a, const void *b)
{
	const struct rule_ref *x = a, *y = b;
	int c = strcmp(x->chain, y->chain);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static struct rule_ref *rules_by_chain(const struct pc_nl_objs *o)
{
	struct rule_ref *v = xcalloc(o->n_rules + 1, sizeof(*v));

	for (size_t i = 0; i < o->n_rules; i++) {
		v[i].chain = o->rules[i].chain;
		v[i].i = i;
	}
	qsort(v, o->n_rules, sizeof(*v), rule_ref_cmp);
	return v;
}

/* The rules of chain @name in @v (@n of them): the first in *first, how many. */
static size_t chain_rules_at(const struct rule_ref *v, size_t n, const char *name,
			     size_t *first)
{
	size_t lo = 0, hi = n, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].chain, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < n && strcmp(v[k].chain, name) == 0; k++)
		;
	*first = lo;
	return k - lo;
}

static const char *chain_name(const struct nftnl_chain *c)
{
	return nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
}


/*
 * A plan's chain against the live one of its name: 0 the same, 1 only
 * the base chain's policy differs (a NEWCHAIN updates it), -1 they
 * differ otherwise (a hook cannot be changed in place).
 */
static int chain_compat(const struct nftnl_chain *w, const struct nftnl_chain *l)
{
	bool wb = nftnl_chain_is_set(w, NFTNL_CHAIN_HOOKNUM);
	bool lb = nftnl_chain_is_set(l, NFTNL_CHAIN_HOOKNUM);
	const char *wt, *lt;

	if (!wb && !lb)
		return 0;
	if (wb != lb)
		return -1;
	wt = nftnl_chain_is_set(w, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(w, NFTNL_CHAIN_TYPE) : "";
	lt = nftnl_chain_is_set(l, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(l, NFTNL_CHAIN_TYPE) : "";
	if (nftnl_chain_get_u32(w, NFTNL_CHAIN_HOOKNUM) != nftnl_chain_get_u32(l, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_s32(w, NFTNL_CHAIN_PRIO) != nftnl_chain_get_s32(l, NFTNL_CHAIN_PRIO) ||
	    strcmp(wt, lt) != 0)
		return -1;
	return nftnl_chain_get_u32(w, NFTNL_CHAIN_POLICY) ==
	       nftnl_chain_get_u32(l, NFTNL_CHAIN_POLICY) ? 0 : 1;
}

/* The same rules in the same order, none referring to what goes. */
static bool chain_rules_same(const struct upd *u, const struct rule_ref *wv, size_t wn,
			     const struct rule_ref *lv, size_t ln)
{
	if (wn != ln)
		return false;
	for (size_t k = 0; k < wn; k++) {
		const struct nl_rule *wr = &u->o->rules[wv[k].i];
		const struct nl_rule *lr = &u->live->rules[lv[k].i];
		char *a, *b;
		bool same;

		if (rule_refers_gone(u, lr))
			return false;
		a = rule_canon(u->o, wr);
		b = rule_canon(u->live, lr);
		same = strcmp(a, b) == 0;
		free(a);
		free(b);
		if (!same)
			return false;
	}
	return true;
}

/* A message naming one object of @table: a set's flush (DELSETELEM), a chain's (DELRULE). */
static void batch_flush(struct pc_nl_batch *b, const char *table, uint16_t type,
			const char *name)
{
	struct nlmsghdr *nlh = batch_msg(b, type, 0, NULL,
					 xasprintf("%s %s", type == NFT_MSG_DELRULE ?
						   "rules of chain" : "elements of set", name));

	mnl_attr_put_strz(nlh, type == NFT_MSG_DELRULE ? NFTA_RULE_TABLE :
			  NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, type == NFT_MSG_DELRULE ? NFTA_RULE_CHAIN :
			  NFTA_SET_ELEM_LIST_SET, name);
	batch_done(b, nlh);
}

/* An element by all the kernel keeps of it: keys, flags, verdict, jump, comment. */
static char *elem_ident(const struct nl_elem *e)
{
	struct pc_buf out;

	pc_buf_init(&out);
	for (uint32_t i = 0; i < e->len; i++)
		pc_buf_printf(&out, "%02x", e->key[i]);
	pc_buf_putc(&out, '-');
	for (uint32_t i = 0; e->has_end && i < e->len; i++)
		pc_buf_printf(&out, "%02x", e->key_end[i]);
	pc_buf_printf(&out, " %x %d %d %u %s %s", e->flags, e->open, e->has_verdict,
		      e->has_verdict ? e->verdict : 0, e->chain ? e->chain : "-",
		      e->comment ? e->comment : "-");
	return out.data;
}

struct elem_ref {
	char *ident;
	const struct nl_elem *e;
};

static int elem_ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct elem_ref *)a)->ident, ((const struct elem_ref *)b)->ident);
}

static struct elem_ref *elems_sorted(const struct nl_set *ns)
{
	struct elem_ref *v = xcalloc(ns->n + 1, sizeof(*v));

	for (size_t i = 0; i < ns->n; i++) {
		v[i].ident = elem_ident(&ns->e[i]);
		v[i].e = &ns->e[i];
	}
	qsort(v, ns->n, sizeof(*v), elem_ref_cmp);
	return v;
}

static void elems_free(struct elem_ref *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].ident);
	free(v);
}

/*
 * The elements of @w that @l lacks are added, those of @l that @w lacks
 * deleted; the others stay (with their counters): a one-line change
 * touches a few elements of a group of thousands. For hash sets, whose
 * elements stand alone (nft lists them sorted, so the order they came in
 * does not show).
 */
static void batch_set_delta(struct pc_nl_batch *b, struct nl_set *w,
			    const struct nl_set *l)
{
	struct elem_ref *wv = elems_sorted(w), *lv = elems_sorted(l);
	const struct nl_elem **gone = xcalloc(l->n + 1, sizeof(*gone));
	struct nl_set add = *w;
	size_t i = 0, j = 0, n_gone = 0;

	add.e = xcalloc(w->n + 1, sizeof(*add.e));
	add.n = 0;
	while (i < w->n || j < l->n) {
		int c = i == w->n ? 1 : j == l->n ? -1 : strcmp(wv[i].ident, lv[j].ident);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			add.e[add.n++] = *wv[i++].e;   /* a shallow copy: the strings stay w's */
		} else {
			gone[n_gone++] = lv[j++].e;
		}
	}
	batch_del_elems(b, w, w->name, gone, n_gone);
	batch_set_elems(b, &add, w->name, 0, w->loc);
	free(add.e);
	free(gone);
	elems_free(wv, w->n);
	elems_free(lv, l->n);
}

/* Elements that stand alone: not the start and end marks of an interval set. */
static bool set_elems_alone(const struct nl_set *ns)
{
	return !(set_u32(ns, NFTNL_SET_FLAGS) & (NFT_SET_INTERVAL | NFT_SET_CONCAT));
}

/*
 * The rules of a changed chain, changed one by one: the longest common
 * run of rules (as diff finds it) stays, with its handles and counters;
 * the live rules outside it are deleted by handle, the plan's rules
 * outside it inserted before the next rule that stays (or at the end).
 * A live rule that refers to a set or object that goes, or jumps to a
 * chain that goes, never stays.
 */
struct chain_edit {
	bool edit;         /* false: the chain is flushed and filled */
	size_t *del;       /* live rules to delete (indices into live->rules) */
	size_t n_del;
	size_t *ins;       /* plan rules to insert (indices into o->rules) */
	uint64_t *before;  /* each one's place: before that handle, 0 at the end */
	size_t n_ins;
};

/* The comparison table of a chain's rules takes at most this many cells. */
#define EDIT_CELLS_MAX ((size_t)4 << 20)

static void chain_edit_make(const struct upd *u, const bool *chain_goes,
			    const struct rule_ref *wv, size_t wn,
			    const struct rule_ref *lv, size_t ln, struct chain_edit *ed)
{
	char **wc, **lc;
	uint32_t *t;
	size_t i = 0, j = 0, pending = 0;

	memset(ed, 0, sizeof(*ed));
	if ((wn + 1) * (ln + 1) > EDIT_CELLS_MAX)
		return;
	for (size_t k = 0; k < ln; k++)
		if (!u->live->rules[lv[k].i].handle)
			return;
	wc = xcalloc(wn + 1, sizeof(*wc));
	lc = xcalloc(ln + 1, sizeof(*lc));
	for (size_t k = 0; k < wn; k++)
		wc[k] = rule_canon(u->o, &u->o->rules[wv[k].i]);
	for (size_t k = 0; k < ln; k++) {
		const struct nl_rule *lr = &u->live->rules[lv[k].i];

		if (!rule_refers_gone(u, lr) && !rule_jumps_gone(u, chain_goes, lr))
			lc[k] = rule_canon(u->live, lr);
	}
	t = xcalloc((wn + 1) * (ln + 1), sizeof(*t));
#define T(a, b) t[(a) * (ln + 1) + (b)]
	for (size_t a = wn; a-- > 0;)
		for (size_t b = ln; b-- > 0;)
			T(a, b) = lc[b] && strcmp(wc[a], lc[b]) == 0 ? T(a + 1, b + 1) + 1 :
				  T(a + 1, b) > T(a, b + 1) ? T(a + 1, b) : T(a, b + 1);
	ed->edit = true;
	ed->del = xcalloc(ln + 1, sizeof(*ed->del));
	ed->ins = xcalloc(wn + 1, sizeof(*ed->ins));
	ed->before = xcalloc(wn + 1, sizeof(*ed->before));
	while (i < wn || j < ln) {
		if (i < wn && j < ln && lc[j] && strcmp(wc[i], lc[j]) == 0) {
			/* it stays: the inserts waiting go before it */
			for (; pending < ed->n_ins; pending++)
				ed->before[pending] = u->live->rules[lv[j].i].handle;
			i++;
			j++;
		} else if (j < ln && (i == wn || T(i, j + 1) >= T(i + 1, j))) {
			ed->del[ed->n_del++] = lv[j++].i;
		} else {
			ed->ins[ed->n_ins++] = wv[i++].i;
		}
	}
#undef T
	free(t);
	for (size_t k = 0; k < wn; k++)
		free(wc[k]);
	for (size_t k = 0; k < ln; k++)
		free(lc[k]);
	free(wc);
	free(lc);
}

static void chain_edit_free(struct chain_edit *ed)
{
	free(ed->del);
	free(ed->ins);
	free(ed->before);
}

/* A live rule deleted by its handle. */
static void batch_del_rule(struct pc_nl_batch *b, const struct nl_rule *lr)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		PC_BUG("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, nftnl_rule_get_str(lr->r, NFTNL_RULE_TABLE));
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, lr->chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, lr->handle);
	nlh = batch_msg(b, NFT_MSG_DELRULE, 0, NULL,
			xasprintf("rule %llu of chain %s", (unsigned long long)lr->handle,
				  lr->chain));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	batch_done(b, nlh);
}

/* What becomes of each chain of the plan. */
enum {
	CH_NEW,       /* not in the table: made */
	CH_KEEP,      /* the same: nothing is sent */
	CH_FILL,      /* changed rule by rule (struct chain_edit), or flushed and filled */
	CH_RECREATE,  /* deleted and made again (after one made, see upd_order_sets()) */
};

/*
 * Does a named map that stays jump to a chain that goes (an element that
 * logs or rejects jumps to an action chain)? The kernel would refuse to
 * delete the chain.
 */
static bool kept_map_jumps_gone(const struct upd *u, const bool *live_ch_goes)
{
	const struct pc_nl_objs *o = u->o, *live = u->live;

	for (size_t i = 0; i < o->n_sets; i++) {
		ssize_t l;
		const struct nl_set *ls;

		if (o->sets[i].anon || u->set_fate[i] != UPD_KEEP)
			continue;
		l = name_find(u->live_sets, u->n_live_sets, o->sets[i].name);
		ls = l >= 0 ? &live->sets[l] : NULL;
		for (size_t k = 0; ls && k < ls->n; k++) {
			ssize_t c;

			if (!ls->e[k].chain)
				continue;
			c = name_find(u->live_chains, u->n_live_chains, ls->e[k].chain);
			if (c >= 0 && live_ch_goes[c])
				return true;
		}
	}
	return false;
}

/*
 * The messages of a re-apply, after the batch's begin: false (nothing
 * added) when the live table cannot be updated in place.
 */
static bool batch_update(struct pc_nl_batch *b, struct pc_nl_objs *o,
			 const struct pc_nl_objs *live)
{
	struct upd u;
	struct rule_ref *wv, *lv;
	int *ch, *policy;
	bool *live_ch_goes, ok;
	struct chain_edit *ed;
	const char *table = o->table;

	/* a bound (anonymous) chain goes with its rule, not by its name:
	 * such a table (not one portcullis made) is replaced whole */
	for (size_t i = 0; i < live->n_chains; i++)
		if (nftnl_chain_is_set(live->chains[i], NFTNL_CHAIN_FLAGS) &&
		    (nftnl_chain_get_u32(live->chains[i], NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING))
			return false;
	memset(&u, 0, sizeof(u));
	u.o = o;
	u.live = live;
	upd_classify(&u);
	for (size_t i = 0; i < o->n_chains; i++) {
		ssize_t l = name_find(u.live_chains, u.n_live_chains, chain_name(o->chains[i]));

		if (l >= 0 && chain_compat(o->chains[i], live->chains[l]) < 0) {
			upd_free(&u);
			return false;
		}
	}
	wv = rules_by_chain(o);
	lv = rules_by_chain(live);
	ch = xcalloc(o->n_chains + 1, sizeof(*ch));
	policy = xcalloc(o->n_chains + 1, sizeof(*policy));
	live_ch_goes = xcalloc(live->n_chains + 1, sizeof(*live_ch_goes));
	for (size_t i = 0; i < live->n_chains; i++)
		live_ch_goes[i] = name_find(u.o_chains, u.n_o_chains,
					    chain_name(live->chains[i])) < 0;
	for (size_t i = 0; i < o->n_chains; i++) {
		const char *name = chain_name(o->chains[i]);
		ssize_t l = name_find(u.live_chains, u.n_live_chains, name);
		size_t wf, lf, wn, ln;

		if (l < 0) {
			ch[i] = CH_NEW;
			continue;
		}
		policy[i] = chain_compat(o->chains[i], live->chains[l]);
		wn = chain_rules_at(wv, o->n_rules, name, &wf);
		ln = chain_rules_at(lv, live->n_rules, name, &lf);
		ch[i] = chain_rules_same(&u, wv + wf, wn, lv + lf, ln) ? CH_KEEP : CH_FILL;
	}
	/* the order of the chains, as that of the sets (upd_order_sets()) */
	{
		ssize_t last = -1;
		bool forced = false;

		for (size_t i = 0; i < o->n_chains; i++) {
			ssize_t l;

			if (ch[i] == CH_NEW) {
				forced = true;
				continue;
			}
			l = name_find(u.live_chains, u.n_live_chains, chain_name(o->chains[i]));
			if (!forced && l > last) {
				last = l;
				continue;
			}
			ch[i] = CH_RECREATE;
			live_ch_goes[l] = true;
			forced = true;
		}
	}
	/* such a table is replaced whole (kept_map_jumps_gone()) */
	ok = !kept_map_jumps_gone(&u, live_ch_goes);
	if (!ok)
		goto out;
	/* a chain that stays must not jump to one that goes */
	for (size_t i = 0; i < o->n_chains; i++) {
		size_t lf, ln;

		if (ch[i] != CH_KEEP)
			continue;
		ln = chain_rules_at(lv, live->n_rules, chain_name(o->chains[i]), &lf);
		for (size_t k = 0; k < ln && ch[i] == CH_KEEP; k++)
			if (rule_jumps_gone(&u, live_ch_goes, &live->rules[lv[lf + k].i]))
				ch[i] = CH_FILL;
	}

	ed = xcalloc(o->n_chains + 1, sizeof(*ed));
	for (size_t i = 0; i < o->n_chains; i++) {
		const char *name = chain_name(o->chains[i]);
		size_t wf, lf, wn, ln;

		if (ch[i] != CH_FILL)
			continue;
		wn = chain_rules_at(wv, o->n_rules, name, &wf);
		ln = chain_rules_at(lv, live->n_rules, name, &lf);
		chain_edit_make(&u, live_ch_goes, wv + wf, wn, lv + lf, ln, &ed[i]);
	}

	/* What goes: the rules of changed chains first (they hold the
	 * references), then sets, objects, flowtables and chains. */
	for (size_t i = 0; i < o->n_chains; i++) {
		if (ch[i] != CH_FILL)
			continue;
		if (!ed[i].edit)
			batch_flush(b, table, NFT_MSG_DELRULE, chain_name(o->chains[i]));
		for (size_t k = 0; k < ed[i].n_del; k++)
			batch_del_rule(b, &live->rules[ed[i].del[k]]);
	}
	for (size_t i = 0; i < live->n_chains; i++)
		if (live_ch_goes[i])   /* not in the plan, or made again */
			batch_flush(b, table, NFT_MSG_DELRULE, chain_name(live->chains[i]));
	for (size_t i = 0; i < o->n_sets; i++)
		if (!o->sets[i].anon && u.set_fate[i] == UPD_REFILL &&
		    !set_elems_alone(&o->sets[i]))
			batch_flush(b, table, NFT_MSG_DELSETELEM, o->sets[i].name);
	for (size_t i = 0; i < live->n_sets; i++)
		if (u.live_set_goes[i])
			batch_named(b, table, NFT_MSG_DELSET, live->sets[i].name, 0);
	for (size_t i = 0; i < live->n_objs; i++)
		if (u.live_obj_goes[i])
			batch_named(b, table, NFT_MSG_DELOBJ,
				    nftnl_obj_get_str(live->objs[i], NFTNL_OBJ_NAME),
				    nftnl_obj_get_u32(live->objs[i], NFTNL_OBJ_TYPE));
	for (size_t i = 0; i < live->n_fts; i++)
		batch_del_flowtable(b, table, live->fts[i]);
	for (size_t i = 0; i < live->n_chains; i++)
		if (live_ch_goes[i])
			batch_named(b, table, NFT_MSG_DELCHAIN, chain_name(live->chains[i]), 0);

	/* What comes: objects, chains (a map's element may jump to one),
	 * sets and elements, then the rules of new and changed chains in
	 * the plan's order. */
	for (size_t i = 0; i < o->n_objs; i++)
		if (u.obj_fate[i] != UPD_KEEP)
			batch_obj(b, o->objs[i], NULL);
	for (size_t i = 0; i < o->n_chains; i++) {
		struct nlmsghdr *nlh;

		if (ch[i] != CH_NEW && ch[i] != CH_RECREATE && policy[i] == 0)
			continue;
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL,
				xasprintf("chain %s", chain_name(o->chains[i])));
		nftnl_chain_nlmsg_build_payload(nlh, o->chains[i]);
		batch_done(b, nlh);
	}
	for (size_t i = 0; i < o->n_sets; i++) {
		struct nl_set *ns = &o->sets[i];

		if (ns->anon || u.set_fate[i] == UPD_KEEP)
			continue;
		if (u.set_fate[i] == UPD_REFILL && set_elems_alone(ns))
			batch_set_delta(b, ns, &live->sets[name_find(u.live_sets,
									     u.n_live_sets,
									     ns->name)]);
		else if (u.set_fate[i] == UPD_REFILL)
			batch_set_elems(b, ns, ns->name, 0, ns->loc);
		else
			batch_set(b, ns, ns->name, batch_set_id(b), ns->loc);
	}
	for (size_t i = 0; i < o->n_chains; i++) {
		size_t first, n;

		if (ch[i] == CH_KEEP)
			continue;
		if (ed[i].edit) {
			for (size_t k = 0; k < ed[i].n_ins; k++)
				batch_rule(b, o, &o->rules[ed[i].ins[k]], ed[i].before[k]);
			continue;
		}
		n = chain_rules_at(wv, o->n_rules, chain_name(o->chains[i]), &first);
		for (size_t k = 0; k < n; k++)
			batch_rule(b, o, &o->rules[wv[first + k].i], 0);
	}
	for (size_t i = 0; i < o->n_chains; i++)
		chain_edit_free(&ed[i]);
	free(ed);
out:
	free(ch);
	free(policy);
	free(live_ch_goes);
	free(wv);
	free(lv);
	upd_free(&u);
	return ok;
}

struct pc_nl_batch *pc_nl_batch_update(const struct pc_nft_plan *plan,
				       const struct pc_nl_objs *live, bool commit)
{
	struct pc_nl_objs *o;
	struct pc_nl_batch *b;

	if (pc_nl_objs_owner(live) != PC_NL_TABLE_OURS || pc_nl_objs_process_owned(live) ||
	    live->table_flags != 0 || !live->genid)
		return pc_nl_batch_from_plan(plan, commit);
	o = pc_nl_objs_from_plan(plan);
	/* refused whole (ERESTART) if the ruleset is no longer the one read */
	b = batch_new(live->genid);
	if (!batch_update(b, o, live)) {
		pc_nl_batch_destroy(b);
		b = pc_nl_batch_create(plan->table, o, commit);
		pc_nl_objs_destroy(o);
		return b;
	}
	if (commit)
		batch_commit(b);
	pc_nl_objs_destroy(o);
	return b;
}
