/* SPDX-License-Identifier: MIT */
/*
 * sets (issue 14): the elements of a dynamic set, for `portcullis set`.
 * Adding or deleting is one small transaction of its own (the set and
 * the rules are left alone); listing reads the table back.
 */
#include "backends/netlink/nl_internal.h"

/* Sends the batch in @buf and reads the kernel's answers: 0 or -errno. */
static int send_batch(struct mnl_socket *nl, struct mnl_nlmsg_batch *batch)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl);
	int fd = mnl_socket_get_fd(nl), ret = 0;

	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch),
			      mnl_nlmsg_batch_size(batch)) < 0)
		return -errno;
	/* every message asked for an ack: read until none is left */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		r = mnl_cb_run(buf, (size_t)n, 0, portid, NULL, NULL);
		if (r < 0 && !ret)
			ret = -errno;
	}
	return ret;
}

int pc_nl_set_change(const char *table, bool add, const struct pc_nl_set_elem *v,
		     size_t n, uint64_t timeout_ms)
{
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 8;
	/* zeroed: the padding libmnl leaves after attributes is sent too */
	char *buf = xcalloc(1, bufsz);
	struct mnl_nlmsg_batch *batch;
	struct mnl_socket *nl;
	int ret = 0;

	nl = nl_open(&ret);
	if (!nl) {
		free(buf);
		return ret;
	}
	batch = mnl_nlmsg_batch_start(buf, bufsz);
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq_next());
	mnl_nlmsg_batch_next(batch);
	/* one message per element: a command line names a few addresses */
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		struct nlmsghdr *nlh;

		if (!s || !e)
			PC_BUG("out of memory");
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, v[i].set);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, v[i].key, v[i].len);
		if (add && timeout_ms)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		nftnl_set_elem_add(s, e);
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch),
					    add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
					    NFPROTO_INET, (add ? NLM_F_CREATE : 0) | NLM_F_ACK,
					    seq_next());
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		if (!mnl_nlmsg_batch_next(batch))
			PC_BUG("netlink batch full");
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq_next());
	mnl_nlmsg_batch_next(batch);
	ret = send_batch(nl, batch);
	mnl_nlmsg_batch_stop(batch);
	mnl_socket_close(nl);
	free(buf);
	return ret;
}

static int elem_print(struct nftnl_set_elem *e, void *data)
{
	FILE *out = data;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	char text[INET6_ADDRSTRLEN];

	if (!key || (len != 4 && len != 16))
		return 0;
	inet_ntop(len == 4 ? AF_INET : AF_INET6, key, text, sizeof(text));
	fputs(text, out);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		fprintf(out, " expires %llus",
			(unsigned long long)(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION) +
					     999) / 1000);
	fputc('\n', out);
	return 0;
}

int pc_nl_set_list(const char *table, const char *const *sets, size_t n_sets,
		   FILE *out, size_t *found)
{
	struct pc_nl_objs *o = NULL;
	int ret = pc_nl_objs_read(table, &o);

	*found = 0;
	if (ret < 0)
		return ret;
	if (!o)
		return -ENOENT;
	for (size_t k = 0; k < n_sets; k++)
		for (size_t i = 0; i < o->n_sets; i++) {
			const struct nl_set *ns = &o->sets[i];

			if (ns->anon || strcmp(ns->name, sets[k]) != 0)
				continue;
			(*found)++;
			for (size_t r = 0; r < ns->n_raw; r++)
				nftnl_set_elem_foreach(ns->raw[r], elem_print, out);
		}
	pc_nl_objs_destroy(o);
	return 0;
}
