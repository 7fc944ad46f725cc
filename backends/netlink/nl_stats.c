/* SPDX-License-Identifier: MIT */
/*
 * counters (issue 14): what the counters of a table have counted, by the
 * comment of the rule or verdict-map element that holds each, for
 * `portcullis stats`. Rules and elements carry their policy location in
 * their comments, so the sums per policy line need no other bookkeeping.
 */
#include "backends/netlink/nl_internal.h"

struct count_acc {
	struct pc_nl_count *v;
	size_t n, cap;
};

static void acc_add(struct count_acc *a, const char *where, uint64_t packets,
		    uint64_t bytes)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].where, where) == 0) {
			a->v[i].packets += packets;
			a->v[i].bytes += bytes;
			a->v[i].holders++;
			return;
		}
	a->v = xgrow(a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n].where = xstrdup(where);
	a->v[a->n].packets = packets;
	a->v[a->n].bytes = bytes;
	a->v[a->n].holders = 1;
	a->n++;
}

struct counter_val {
	bool found;
	uint64_t packets, bytes;
};

static int counter_of(struct nftnl_expr *e, void *data)
{
	struct counter_val *c = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") != 0)
		return 0;
	c->found = true;
	c->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	c->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	return 0;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;
	uint32_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT && len && v[len - 1] == '\0')
		*out = v;
	return 0;
}

static int elem_count(struct nftnl_set_elem *e, void *data)
{
	struct count_acc *a = data;
	struct counter_val c = { false, 0, 0 };
	const char *comment = NULL;

	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
		uint32_t ulen;
		const void *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);

		nftnl_udata_parse(u, ulen, comment_cb, &comment);
	}
	nftnl_set_elem_expr_foreach(e, counter_of, &c);
	if (c.found && comment)
		acc_add(a, comment, c.packets, c.bytes);
	return 0;
}

int pc_nl_counters_read(const char *table, struct pc_nl_count **out, size_t *n)
{
	struct pc_nl_objs *o = NULL;
	struct count_acc a = { NULL, 0, 0 };
	int ret = pc_nl_objs_read(table, &o);

	*out = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	if (!o)
		return -ENOENT;
	for (size_t i = 0; i < o->n_rules; i++) {
		struct counter_val c = { false, 0, 0 };

		nftnl_expr_foreach(o->rules[i].r, counter_of, &c);
		if (c.found && o->rules[i].comment)
			acc_add(&a, o->rules[i].comment, c.packets, c.bytes);
	}
	for (size_t i = 0; i < o->n_sets; i++)
		for (size_t r = 0; r < o->sets[i].n_raw; r++)
			nftnl_set_elem_foreach(o->sets[i].raw[r], elem_count, &a);
	pc_nl_objs_destroy(o);
	*out = a.v;
	*n = a.n;
	return 0;
}

void pc_nl_counts_free(struct pc_nl_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].where);
	free(v);
}
