/* SPDX-License-Identifier: MIT */
#include "backends/table.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/builtin.h"
#include "common/util.h"

/* In the order `portcullis backends` lists them; nft (the default) first. */
const struct pc_backend *const pc_backends_builtin[] = {
	&pc_backend_nft,
	&pc_backend_iptables,
	&pc_backend_ip6tables,
	&pc_backend_pf,
	NULL,
};

bool pc_backend_is_builtin(const char *name)
{
	for (size_t i = 0; pc_backends_builtin[i]; i++)
		if (strcmp(pc_backends_builtin[i]->name, name) == 0)
			return true;
	return false;
}

struct entry {
	const struct pc_backend *backend;
	char *origin; /* NULL: built-in */
	void *handle;
};

struct pc_backend_set {
	struct entry *v;
	size_t n, cap;
};

const char *pc_emit_option(const struct pc_emit_options *opts, const char *name)
{
	const char *value = NULL;

	for (size_t i = 0; i < opts->n_options; i++)
		if (strcmp(opts->options[i].name, name) == 0)
			value = opts->options[i].value;
	return value;
}

const struct pc_backend_option *pc_backend_options(const struct pc_backend *backend)
{
	/* a struct pc_backend too short to hold the field has no options */
	if (backend->size < offsetof(struct pc_backend, options) + sizeof(backend->options))
		return NULL;
	return backend->options;
}

const struct pc_backend_option *pc_backend_option_find(const struct pc_backend *backend,
							const char *name)
{
	const struct pc_backend_option *o = pc_backend_options(backend);

	for (; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

bool pc_backend_option_value_ok(const struct pc_backend_option *opt, const char *value)
{
	size_t len = strlen(value);

	for (const char *p = opt->values; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL) {
		size_t n = strcspn(p, "|");

		if (n == len && strncmp(p, value, n) == 0)
			return true;
	}
	return !opt->values;
}

const char *pc_cap_name(unsigned cap)
{
	switch (cap) {
	case PC_CAP_IPV4: return "IPv4";
	case PC_CAP_IPV6: return "IPv6";
	case PC_CAP_DIR_IN: return "the in direction";
	case PC_CAP_DIR_OUT: return "the out direction";
	case PC_CAP_DIR_FORWARD: return "the forward direction";
	case PC_CAP_IFACE: return "interface matches (on IFACE)";
	case PC_CAP_LOG: return "log";
	case PC_CAP_LOG_PREFIX: return "log prefixes";
	case PC_CAP_LIMIT: return "rate limits (limit)";
	case PC_CAP_REJECT: return "reject";
	case PC_CAP_CONNTRACK: return "connection tracking state matches";
	case PC_CAP_ICMP_TYPE: return "ICMP type matches";
	case PC_CAP_ICMPV6_TYPE: return "ICMPv6 type matches";
	case PC_CAP_TCP_UDP: return "TCP and UDP";
	case PC_CAP_SCTP: return "SCTP ports";
	case PC_CAP_DCCP: return "DCCP ports";
	case PC_CAP_PROTO: return "protocol matches (proto)";
	case PC_CAP_COMMENT: return "comments";
	case PC_CAP_IFACE_LIST: return "interface lists (on { a, b })";
	case PC_CAP_OIFACE: return "the leaving interface of a forward rule (out on IFACE)";
	case PC_CAP_NAT: return "NAT (masquerade, snat, dnat)";
	case PC_CAP_DYNSET: return "dynamic sets (hosts NAME = dynamic)";
	case PC_CAP_LOG_GROUP: return "logging to a netlink group (log group N)";
	case PC_CAP_NEGATION: return "negation (from not, to not, on not)";
	case PC_CAP_LIMIT_BURST: return "a rate limit's burst (limit ... burst M)";
	case PC_CAP_SPORT: return "source ports (source-port)";
	case PC_CAP_LIMIT_PER_SOURCE: return "a rate limit per source address (limit ... per source)";
	case PC_CAP_VMAP_IFACE: return "verdict maps keyed by interface";
	case PC_CAP_VMAP_ICMP: return "verdict maps keyed by ICMP type";
	case PC_CAP_VMAP_ACTION: return "verdict maps whose elements log or reject";
	}
	return "an unknown feature";
}

static const struct entry *set_find(const struct pc_backend_set *set,
				    const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].backend->name, name) == 0)
			return &set->v[i];
	return NULL;
}

static void set_add(struct pc_backend_set *set, const struct pc_backend *b,
		    char *origin, void *handle)
{
	set->v = xgrow(set->v, &set->cap, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = (struct entry){ b, origin, handle };
}

static bool valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 32)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/*
 * Why code at @st may not be run, or NULL. Whoever can write a plugin (or
 * the directory it lies in, to put another file there) runs code as the
 * user of the program, usually root: only root and that user may.
 */
static const char *unsafe_reason(const struct stat *st, char *buf, size_t len)
{
	if (st->st_uid != 0 && st->st_uid != getuid() && st->st_uid != geteuid()) {
		snprintf(buf, len, "it is owned by uid %lu, neither root nor the invoking user",
			 (unsigned long)st->st_uid);
		return buf;
	}
	if (st->st_mode & S_IWOTH)
		return "it is world-writable";
	if (st->st_mode & S_IWGRP)
		return "it is group-writable";
	return NULL;
}

static void load_plugin(struct pc_backend_set *set, const char *path,
			struct pc_diag *diag, enum pc_severity sev)
{
	const struct pc_backend *b;
	const struct entry *other;
	const char *why;
	char buf[128];
	struct stat st;
	void *h;

	if (stat(path, &st) < 0) {
		pc_diag_report(diag, sev, NULL, "plugin %s: cannot load: %s", path,
			       strerror(errno));
		return;
	}
	why = S_ISREG(st.st_mode) ? unsafe_reason(&st, buf, sizeof(buf))
				  : "it is not a regular file";
	if (why) {
		pc_diag_report(diag, sev, NULL, "plugin %s: refused: %s", path, why);
		return;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		pc_diag_report(diag, sev, NULL, "plugin %s: cannot load: %s",
			       path, dlerror());
		return;
	}
	b = dlsym(h, PC_BACKEND_SYMBOL);
	if (!b) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: it does not export '%s'",
			       path, PC_BACKEND_SYMBOL);
		goto reject;
	}
	/* Nothing but the ABI number may be read before it is checked. */
	if (b->abi != PC_BACKEND_ABI) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: built for backend ABI %u, this program has ABI %u",
			       path, (unsigned)b->abi, PC_BACKEND_ABI);
		goto reject;
	}
	/* ABI 2's struct pc_backend ends with @options: nothing shorter is one */
	if (b->size < offsetof(struct pc_backend, options) + sizeof(b->options)) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: its struct pc_backend has %u bytes, fewer than ABI %u's",
			       path, (unsigned)b->size, PC_BACKEND_ABI);
		goto reject;
	}
	if (!valid_name(b->name)) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: invalid backend name (want 1-32 of [a-z0-9-])",
			       path);
		goto reject;
	}
	if (!b->emit || !b->summary) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: backend '%s' has no %s",
			       path, b->name, b->emit ? "summary" : "emit function");
		goto reject;
	}
	other = set_find(set, b->name);
	if (other && other->backend == b)
		goto reject; /* the same file again (a directory listed twice) */
	if (other) {
		pc_diag_report(diag, sev, NULL,
			       "plugin %s: rejected: duplicate backend name '%s' (already provided by %s)",
			       path, b->name, other->origin ? other->origin : "the program");
		goto reject;
	}
	set_add(set, b, xstrdup(path), h);
	return;
reject:
	dlclose(h);
}

static int so_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 3 &&
	       strcmp(d->d_name + len - 3, ".so") == 0;
}

static void load_dir(struct pc_backend_set *set, const char *dir,
		     struct pc_diag *diag, enum pc_severity sev)
{
	struct dirent **names;
	const char *why;
	char buf[128];
	struct stat st;
	int n;

	if (dir[0] != '/') {
		/* relative to wherever the program happens to run: never what was meant */
		pc_diag_report(diag, PC_SEV_WARNING, NULL,
			       "PORTCULLIS_PLUGIN_PATH: '%s' is not an absolute path; ignored", dir);
		return;
	}
	if (stat(dir, &st) < 0)
		return; /* a missing plugin directory is normal */
	why = S_ISDIR(st.st_mode) ? unsafe_reason(&st, buf, sizeof(buf))
				  : "it is not a directory";
	if (why) {
		pc_diag_report(diag, sev, NULL, "plugin directory %s: refused: %s", dir, why);
		return;
	}
	n = scandir(dir, &names, so_filter, alphasort);
	if (n < 0)
		return; /* a missing plugin directory is normal */
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);

		load_plugin(set, path, diag, sev);
		free(path);
		free(names[i]);
	}
	free(names);
}

struct pc_backend_set *pc_backend_set_create(struct pc_diag *diag,
					     enum pc_severity sev, bool plugins)
{
	struct pc_backend_set *set = xzalloc(sizeof(*set));
	const char *env;

	for (size_t i = 0; pc_backends_builtin[i]; i++)
		set_add(set, pc_backends_builtin[i], NULL, NULL);
	if (!plugins)
		return set;
	env = getenv("PORTCULLIS_PLUGIN_PATH");
	if (env && *env) {
		char *copy = xstrdup(env), *save = NULL;

		for (char *dir = strtok_r(copy, ":", &save); dir;
		     dir = strtok_r(NULL, ":", &save))
			load_dir(set, dir, diag, sev);
		free(copy);
	}
	load_dir(set, PC_PLUGINDIR, diag, sev);
	return set;
}

void pc_backend_set_destroy(struct pc_backend_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].origin);
		if (set->v[i].handle)
			dlclose(set->v[i].handle);
	}
	free(set->v);
	free(set);
}

size_t pc_backend_set_count(const struct pc_backend_set *set)
{
	return set->n;
}

const struct pc_backend *pc_backend_set_get(const struct pc_backend_set *set,
					    size_t i, const char **origin)
{
	if (i >= set->n)
		PC_BUG("backend index %zu of %zu", i, set->n);
	if (origin)
		*origin = set->v[i].origin ? set->v[i].origin : "built-in";
	return set->v[i].backend;
}

const struct pc_backend *pc_backend_set_find(const struct pc_backend_set *set,
					     const char *name)
{
	const struct entry *e = set_find(set, name);

	return e ? e->backend : NULL;
}

uint32_t pc_backend_rule_caps(const struct pc_rule *rule, enum pc_direction dir)
{
	static const uint32_t dir_caps[__PC_DIR_MAX] = {
		[PC_DIR_IN] = PC_CAP_DIR_IN,
		[PC_DIR_OUT] = PC_CAP_DIR_OUT,
		[PC_DIR_FORWARD] = PC_CAP_DIR_FORWARD,
	};
	uint32_t caps = dir_caps[dir];

	if (rule->families & PC_FAM_IPV4)
		caps |= PC_CAP_IPV4;
	if (rule->families & PC_FAM_IPV6)
		caps |= PC_CAP_IPV6;
	if (rule->iface)
		caps |= PC_CAP_IFACE;
	if (rule->n_ifaces > 1)
		caps |= PC_CAP_IFACE_LIST;
	if (rule->n_oifaces)
		caps |= PC_CAP_OIFACE;
	if (rule->log)
		caps |= PC_CAP_LOG;
	if (rule->log && rule->log_prefix)
		caps |= PC_CAP_LOG_PREFIX;
	if (rule->log && rule->log_nflog)
		caps |= PC_CAP_LOG_GROUP;
	if (rule->saddr_not || rule->daddr_not || rule->iface_not)
		caps |= PC_CAP_NEGATION;
	if (rule->limit.rate && rule->limit_burst)
		caps |= PC_CAP_LIMIT_BURST;
	if (rule->limit.rate)
		caps |= PC_CAP_LIMIT;
	if (rule->limit.rate && rule->limit_per_source)
		caps |= PC_CAP_LIMIT_PER_SOURCE;
	if (rule->sports.n)
		caps |= PC_CAP_SPORT;
	if (rule->verdict == PC_VERDICT_REJECT)
		caps |= PC_CAP_REJECT;
	if (rule->ct_state)
		caps |= PC_CAP_CONNTRACK;
	if (rule->comment)
		caps |= PC_CAP_COMMENT;
	if (pc_addr_set_is_dynamic(&rule->saddr) || pc_addr_set_is_dynamic(&rule->daddr))
		caps |= PC_CAP_DYNSET;
	for (size_t i = 0; i < rule->n_l4; i++) {
		const struct pc_l4 *l4 = &rule->l4[i];

		switch (l4->proto) {
		case PC_PROTO_TCP:
		case PC_PROTO_UDP:
			caps |= PC_CAP_TCP_UDP;
			break;
		case PC_PROTO_SCTP:
			caps |= l4->dports.n ? PC_CAP_SCTP : PC_CAP_PROTO;
			break;
		case PC_PROTO_DCCP:
			caps |= l4->dports.n ? PC_CAP_DCCP : PC_CAP_PROTO;
			break;
		case PC_PROTO_ICMP:
			caps |= l4->n_types ? PC_CAP_ICMP_TYPE : PC_CAP_PROTO;
			break;
		case PC_PROTO_ICMPV6:
			caps |= l4->n_types ? PC_CAP_ICMPV6_TYPE : PC_CAP_PROTO;
			break;
		default:
			caps |= PC_CAP_PROTO;
			break;
		}
	}
	return caps;
}

/*
 * Families of the rule the backend emits. A rule with IPv6 addresses only
 * is outside an IPv4-only backend's scope; so is one for IPv6 only.
 */
static unsigned rule_scope(const struct pc_backend *b, const struct pc_rule *r)
{
	return r->families & b->families;
}

int pc_backend_check(const struct pc_backend *backend, const struct pc_ir *ir,
		     const struct pc_emit_options *opts, struct pc_diag *diag)
{
	/* A comment the backend cannot carry is no dropped match. */
	const uint32_t soft = PC_CAP_COMMENT | PC_CAP_IPV4 | PC_CAP_IPV6;
	size_t errors = pc_diag_count(diag, PC_SEV_ERROR);
	int ret = 0;

	for (int d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *c = &ir->chains[d];

		for (size_t i = 0; i < c->n; i++) {
			const struct pc_rule *r = &c->rules[i];
			uint32_t missing;

			if (!rule_scope(backend, r))
				continue;
			missing = pc_backend_rule_caps(r, (enum pc_direction)d) &
				  ~backend->caps & ~soft;
			/*
			 * A backend without a direction (pf has no forward)
			 * leaves out that chain's built-in rules; only what
			 * the policy wrote there is an error.
			 */
			if (r->origin != PC_ORIGIN_POLICY)
				missing &= ~(uint32_t)(PC_CAP_DIR_IN | PC_CAP_DIR_OUT |
						       PC_CAP_DIR_FORWARD);
			for (uint32_t bit = 1; missing; bit <<= 1) {
				if (!(missing & bit))
					continue;
				missing &= ~bit;
				pc_diag_error(diag, &r->loc,
					      "backend '%s' cannot express %s",
					      backend->name, pc_cap_name(bit));
				ret = -1;
			}
		}
	}
	/* NAT (routers): a statement of its own, not a filter rule */
	for (size_t i = 0; i < ir->n_nat; i++)
		if (!(backend->caps & PC_CAP_NAT)) {
			pc_diag_error(diag, &ir->nat[i].loc, "backend '%s' cannot express %s",
				      backend->name, pc_cap_name(PC_CAP_NAT));
			ret = -1;
		}
	if (ret == 0 && backend->check && backend->check(ir, opts, diag) != 0)
		ret = -1;
	if (pc_diag_count(diag, PC_SEV_ERROR) != errors)
		ret = -1;
	return ret;
}
