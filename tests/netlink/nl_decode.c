/* SPDX-License-Identifier: MIT */
/*
 * The netlink transaction `apply` sends for a policy, decoded back with
 * libnftnl, one line per message (tests/netlink/decode.sh compares it with
 * a committed dump): a check of the encoding that needs neither root nor a
 * kernel. After each message of a table, set, elements or rule, the line
 * a kernel refusal of that message is reported at (the batch's map of
 * sequence numbers to policy locations).
 *
 *   nl_decode [--no-optimize | --no-dispatch | --dispatch] POLICY
 *
 * As apply: the dispatch (issue 15) unless --no-dispatch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <portcullis/diag.h>

#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "ir/optimize.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

#define TEXT_MAX (1u << 20)

static void print_line(const char *what, const char *text)
{
	/* libnftnl's text of one object, on one line */
	printf("%s", what);
	for (const char *p = text; *p; p++)
		putchar(*p == '\n' ? ' ' : *p);
	putchar('\n');
}

/*
 * libnftnl numbers the elements of the list it builds 1, 2, 3... (the
 * kernel does not mind) but its parser wants each to be NFTA_LIST_ELEM,
 * as the kernel writes them: parsed from a copy so numbered.
 */
static int elems_parse(const struct nlmsghdr *nlh, struct nftnl_set *s)
{
	struct nlmsghdr *copy = xmalloc(nlh->nlmsg_len);
	struct nlattr *a, *e;
	int r;

	memcpy(copy, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(a, copy, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a)
				e->nla_type = NFTA_LIST_ELEM | (e->nla_type & NLA_F_NESTED);
	r = nftnl_set_elems_nlmsg_parse(copy, s);
	free(copy);
	return r;
}

static void decode(const struct nlmsghdr *nlh, char *text)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	text[0] = '\0';
	if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
		puts("batch begin");
		return;
	}
	if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
		puts("batch end");
		return;
	}
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (nftnl_table_nlmsg_parse(nlh, t) < 0)
			break;
		nftnl_table_snprintf(text, TEXT_MAX, t, NFTNL_OUTPUT_DEFAULT, 0);
		if (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) {
			uint32_t len;
			const uint8_t *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
			size_t off = strlen(text);

			off += (size_t)snprintf(text + off, TEXT_MAX - off, " userdata");
			for (uint32_t i = 0; i < len; i++)
				off += (size_t)snprintf(text + off, TEXT_MAX - off, " %02x", u[i]);
		}
		print_line(type == NFT_MSG_NEWTABLE ? "newtable " : "deltable ", text);
		nftnl_table_free(t);
		return;
	}
	case NFT_MSG_NEWSET:
	case NFT_MSG_NEWSETELEM: {
		struct nftnl_set *s = nftnl_set_alloc();
		int r = type == NFT_MSG_NEWSET ? nftnl_set_nlmsg_parse(nlh, s) :
			elems_parse(nlh, s);

		if (r < 0)
			break;
		nftnl_set_snprintf(text, TEXT_MAX, s, NFTNL_OUTPUT_DEFAULT, 0);
		print_line(type == NFT_MSG_NEWSET ? "newset " : "newsetelem ", text);
		nftnl_set_free(s);
		return;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
			break;
		nftnl_chain_snprintf(text, TEXT_MAX, c, NFTNL_OUTPUT_DEFAULT, 0);
		print_line("newchain ", text);
		nftnl_chain_free(c);
		return;
	}
	case NFT_MSG_NEWOBJ: {
		struct nftnl_obj *ob = nftnl_obj_alloc();

		if (nftnl_obj_nlmsg_parse(nlh, ob) < 0) {
			nftnl_obj_free(ob);
			break;
		}
		nftnl_obj_snprintf(text, TEXT_MAX, ob, NFTNL_OUTPUT_DEFAULT, 0);
		print_line("newobj ", text);
		nftnl_obj_free(ob);
		return;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
			break;
		nftnl_rule_snprintf(text, TEXT_MAX, r, NFTNL_OUTPUT_DEFAULT, 0);
		print_line("newrule ", text);
		nftnl_rule_free(r);
		return;
	}
	}
	printf("UNDECODABLE message type %u\n", (unsigned)type);
}

/* Where a refusal (EEXIST) of the message would be reported. */
static void refusal(const struct pc_nl_batch *b, const struct nlmsghdr *nlh)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} msg;
	struct pc_diag *diag = pc_diag_create();
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	memset(&msg, 0, sizeof(msg));
	msg.h.nlmsg_type = NLMSG_ERROR;
	msg.h.nlmsg_len = sizeof(msg);
	msg.e.error = -EEXIST;
	msg.e.msg = *nlh;
	pc_nl_batch_report(b, &msg, diag);
	pc_diag_print(diag, mem, false);
	fclose(mem);
	/* the first line: LOCATION: error: MESSAGE */
	printf("  refused: %.*s\n", (int)strcspn(text, "\n"), text);
	free(text);
	pc_diag_destroy(diag);
}

int main(int argc, char **argv)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_ir *ir, *view = NULL;
	struct pc_nft_plan *plan = NULL;
	struct pc_diag *diag = pc_diag_create();
	struct pc_nl_batch *b;
	bool optimize = true, dispatch = true, sys_error = false;
	const char *path;
	const uint8_t *data;
	size_t len, off = 0;
	char *text;

	if (argc == 3 && strcmp(argv[1], "--no-optimize") == 0) {
		optimize = false;
		path = argv[2];
	} else if (argc == 3 && strcmp(argv[1], "--dispatch") == 0) {
		path = argv[2];
	} else if (argc == 3 && strcmp(argv[1], "--no-dispatch") == 0) {
		dispatch = false;
		path = argv[2];
	} else if (argc == 2) {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: nl_decode [--no-optimize | --no-dispatch | --dispatch] POLICY\n");
		return 2;
	}
	/* as apply does it (pc_cli_load_plan(), which is the program's) */
	if (pc_registry_load(reg, pc_registry_default_path(), false, diag) != 0)
		goto fail;
	pc_registry_finish(reg);
	ir = pc_policy_load(path, reg, 0, diag, &sys_error);
	if (!ir)
		goto fail;
	if (optimize)
		view = pc_ir_optimize_view_keys(ir, PC_OPT_KEYS_ALL, dispatch, NULL);
	plan = pc_nft_plan_create(optimize ? view : ir, diag);
	if (!plan)
		goto fail;
	b = pc_nl_batch_from_plan(plan, true);
	data = pc_nl_batch_data(b, &len);
	text = xmalloc(TEXT_MAX);
	while (off + sizeof(struct nlmsghdr) <= len) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(data + off);
		uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

		decode(nlh, text);
		if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN &&
		    nlh->nlmsg_type != NFNL_MSG_BATCH_END &&
		    (type == NFT_MSG_NEWSET || type == NFT_MSG_NEWSETELEM ||
		     type == NFT_MSG_NEWRULE))
			refusal(b, nlh);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	free(text);
	pc_nl_batch_destroy(b);
	pc_nft_plan_destroy(plan);
	if (optimize)
		pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return 0;
fail:
	pc_diag_print(diag, stderr, false);
	return 1;
}
