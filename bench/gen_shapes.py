#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Policies shaped like real ones, for the benchmarks of issue 15.

  gen_shapes.py capirca [--terms N] [--seed S] [--bench-traffic] OUT
      OUT/capirca.policy                      portcullis
      OUT/capirca/def/NETWORK.net             the same terms for Capirca's
      OUT/capirca/def/SERVICES.svc            aclgen: one filter each for
      OUT/capirca/policies/pol/capirca.pol    iptables (inet), iptables
                                              (inet6), nftables, packetfilter

  gen_shapes.py realworld [--blocklist N] [--seed S] [--bench-traffic]
                          [--blocklist-file] [--blocklist-mix doc|threat|hosts]
                          OUT
      OUT/realworld.policy                    a few dozen rules by service
                                              name and one blocklist group
      OUT/blocklist.txt                       (--blocklist-file only)

Capirca-shaped: what a policy translated from a Capirca policy of N terms
(default 2,000) looks like. About a third of the terms also name a
destination group, interleaved with the others at random; address groups
nest (sites in regions in `internal`, server groups in tiers) and mix IPv4
and IPv6 prefixes; services come as IANA or catalog names, lists of names,
port lists with ranges (`port { 80, 443, 8000-8100 }/tcp`) and single ports;
deny and reject terms sit between allow terms; some terms log, some allow
terms limit. Capirca has no rate limit (the Capirca side omits `limit`) and
its nftables generator has no reject (that filter denies instead); both
sides are otherwise the same terms, for aclgen's side-by-side time.

Real-world-shaped: one host's inbound policy (ssh from admins with a
limit and a log, web, monitoring exporters from the monitoring hosts, DNS,
NTP, mail, a WireGuard/OpenVPN/IPsec VPN, ICMP and ICMPv6 echo with a
limit, a few outbound rules, a final logged drop) plus one blocklist group
of N entries (default 100,000) that the first rule drops. The language has
no `hosts NAME = file "PATH"` yet, so the group is written inline;
--blocklist-file writes it to OUT/blocklist.txt and the group as
`hosts blocklist = file "blocklist.txt"` instead, for when it exists.

--blocklist-mix threat|hosts: a blocklist shaped like a threat feed
(mostly single IPv4 hosts, some prefixes, a few IPv6) or of single
hosts only, with IPv4 addresses from 240.0.0.0/4 (see blocklist_feed);
the default, doc, is the list described above.

Only documentation addresses are used (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32), but see --blocklist-mix. The IPv4 documentation space holds just
768 addresses, so the blocklist has 48 IPv4 entries at most (host
addresses and small prefixes of 198.51.100.64-255 and 203.0.113.64-255, none
adjacent, so no two merge) and the rest are IPv6: /64 prefixes and /128
hosts of 2001:db8::/32, distinct and not adjacent.

--bench-traffic adds what bench_packets.sh needs: `option stateless`,
`option filter-loopback` and `allow in from 127.0.0.0/8` after the last
rule that the benchmark's loopback UDP could meet (no other rule matches
127.0.0.1: every Capirca-shaped term names a source or destination group,
and the real-world rules with neither are on ports other than 5201/udp).

Deterministic: the same arguments give byte-identical files.
"""
import argparse
import csv
import ipaddress
import os
import random
import sys

# Names and what they open (`portcullis lookup NAME`, "opens by default",
# with the shipped registry, catalog and practice table); Capirca gets the
# ports. (tcp ports, udp ports); a port is an int or a (low, high) range.
SERVICES = {
    'ssh': ([22], []),
    'http': ([80], []),
    'https': ([443], [443]),
    'domain': ([53], [53]),
    'ntp': ([], [123]),
    'smtp': ([25], []),
    'submission': ([587], []),
    'imaps': ([993], []),
    'pop3s': ([995], []),
    'ldap': ([389], []),
    'ldaps': ([636], []),
    'kerberos': ([88], [88]),
    'mysql': ([3306], []),
    'postgresql': ([5432], []),
    'snmp': ([], [161]),
    'syslog': ([], [514]),
    'bgp': ([179], []),
    'ms-wbt-server': ([3389], [3389]),
    'microsoft-ds': ([445], []),
    'prometheus': ([9090], []),
    'node-exporter': ([9100], []),
    'grafana': ([3000], []),
    'elasticsearch': ([9200], []),
    'kafka': ([9092], []),
    'rabbitmq': ([5672, 5671], []),
    'etcd': ([(2379, 2380)], []),
    'k8s-api': ([6443], []),
    'kubelet': ([10250], []),
    'openvpn': ([], [1194]),
    'wireguard': ([], [51820]),
    'alertmanager': ([9093], []),
    'zabbix-agent': ([10050], []),
    'nfs': ([2049], []),
    'rsync': ([873], []),
    'sip': ([5060], [5060]),
    'http-alt': ([8080], []),
    'imap': ([143], []),
    'radius': ([], [1812]),
    'syslog-tls': ([6514], []),
    'mongo': ([27017], []),
    'consul': ([8500], []),
    'loki': ([3100, 9095], []),
}
NAMES = sorted(SERVICES)

# Application ports as port lists name them (never 5201, the benchmark's).
APP_PORTS = [80, 443, (8000, 8100), 8443, (9000, 9010), 3000, 5000,
             (7000, 7100), 8080, 8888, (10000, 10100), (15000, 15100),
             4443, 6000, (6100, 6199), 9443, 11000]



def registered_ports():
    """Ports 1024-49151 that the shipped IANA registry assigns on tcp and
    udp, so that port lists do not draw "Unassigned" warnings."""
    registry = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                            'data', 'service-names-port-numbers.csv')
    named = {'tcp': set(), 'udp': set()}
    reserved = set()
    with open(registry, newline='') as f:
        for row in csv.DictReader(f):
            port, proto = row['Port Number'].strip(), row['Transport Protocol'].strip()
            if proto not in named or not port.isdigit():
                continue
            if row['Service Name'].strip() and row['Description'].strip() != 'Reserved':
                named[proto].add(int(port))
            else:
                reserved.add(int(port))
    return sorted(p for p in named['tcp'] & named['udp'] - reserved
                  if 1024 <= p <= 49151 and p != 5201)


REGISTERED = []


def app_port(rng):
    """A port of a port list: a well-known application port, or (as most
    ports of real policies are) some application's own registered port."""
    if not REGISTERED:
        REGISTERED.extend(registered_ports())
    if rng.random() < 0.15:
        return rng.choice(APP_PORTS)
    return rng.choice(REGISTERED)


TIERS = ['web', 'app', 'db', 'cache', 'mq', 'mon', 'mail', 'dns']


def port_text(p):
    return '%d-%d' % p if isinstance(p, tuple) else str(p)


class Plan:
    """The address plan: leaf groups, nested groups, inline prefixes."""

    def __init__(self, rng):
        self.groups = []        # (name, [item]), an item is a prefix or '$name'
        # 64 sites: an IPv4 /30 of 192.0.2.0/24 and an IPv6 /48
        self.sites = []
        for k in range(64):
            name = 'site_%d' % k
            self.groups.append((name, ['192.0.2.%d/30' % (k * 4),
                                       '2001:db8:%x::/48' % (0x1000 + k)]))
            self.sites.append(name)
        # 4 regions: 16 sites, a /29 of 198.51.100.0/25, an IPv6 /56
        self.regions = []
        for r in range(4):
            name = 'region_%d' % r
            items = ['$site_%d' % (r * 16 + k) for k in range(16)]
            items.append('198.51.100.%d/29' % (r * 32))
            items.append('2001:db8:%x:%x00::/56' % (0x2000, r))
            self.groups.append((name, items))
            self.regions.append(name)
        self.groups.append(('internal', ['$region_%d' % r for r in range(4)] +
                            ['198.51.100.128/26', '2001:db8:2100::/40']))
        # 40 server groups (five per tier) of 2-5 hosts of 203.0.113.0/24
        # with their IPv6 addresses; a tier group nests its five
        self.servers = []
        host = 1
        for t, tier in enumerate(TIERS):
            members = []
            for k in range(5):
                name = '%s_%d' % (tier, k)
                items = []
                for _ in range(rng.randint(2, 5)):
                    items.append('203.0.113.%d' % host)
                    items.append('2001:db8:f000:%x::%x' % (t * 16 + k, host))
                    host += 1
                self.groups.append((name, items))
                self.servers.append(name)
                members.append('$' + name)
            self.groups.append((tier + '_all', members))
            self.servers.append(tier + '_all')
        self.inline_next = 0

    def inline(self, rng):
        """An inline address list: one /30 of 198.51.100.192/26, one /64."""
        k = self.inline_next
        self.inline_next += 1
        return ['198.51.100.%d/30' % (192 + (k % 16) * 4),
                '2001:db8:%x:%x::/64' % (0xe000 + (k >> 16), k & 0xffff)]

    def source(self, rng):
        x = rng.random()
        if x < 0.88:
            return '$' + rng.choice(self.sites)
        if x < 0.92:
            return '$' + rng.choice(self.regions)
        if x < 0.93:
            return '$internal'
        return self.inline(rng)


def capirca_terms(n, rng, plan):
    """Yields dicts: action, src, dst, svc (kind, value), log, limit."""
    for i in range(n):
        t = {'i': i}
        has_dst = rng.random() < 1 / 3
        t['dst'] = '$' + rng.choice(plan.servers) if has_dst else None
        # a term with a destination sometimes takes any source
        t['src'] = None if has_dst and rng.random() < 0.1 else plan.source(rng)
        x = rng.random()
        if x < 0.35:
            t['svc'] = ('names', [rng.choice(NAMES)])
        elif x < 0.50:
            t['svc'] = ('names', rng.sample(NAMES, rng.randint(2, 4)))
        elif x < 0.80:
            ports = [app_port(rng) for _ in range(rng.randint(2, 5))]
            t['svc'] = ('ports', (ports, 'udp' if rng.random() < 0.2 else 'tcp'))
        else:
            t['svc'] = ('ports', ([app_port(rng)], 'udp' if rng.random() < 0.2 else 'tcp'))
        x = rng.random()
        t['action'] = 'allow' if x < 0.85 else ('deny' if x < 0.95 else 'reject')
        t['log'] = rng.random() < (0.4 if t['action'] != 'allow' else 0.02)
        # a limit only where pf can keep one bucket: one transport and one
        # port (or range), groups (one pf table each) as addresses
        kind, v = t['svc']
        one_rule = (not isinstance(t['src'], list) and
                    (kind == 'ports' and len(v[0]) == 1 or
                     kind == 'names' and len(v) == 1 and
                     sum(len(p) for p in SERVICES[v[0]]) == 1))
        t['limit'] = (t['action'] == 'allow' and one_rule and
                      rng.random() < 0.1)
        yield t


def addr_text(a):
    if isinstance(a, list):
        return '{ %s }' % ', '.join(a)
    return a


def write_capirca(args):
    rng = random.Random(args.seed)
    plan = Plan(rng)
    terms = list(capirca_terms(args.terms, rng, plan))
    out = args.out
    os.makedirs(os.path.join(out, 'capirca', 'def'), exist_ok=True)
    os.makedirs(os.path.join(out, 'capirca', 'policies', 'pol'), exist_ok=True)

    with open(os.path.join(out, 'capirca.policy'), 'w') as f:
        f.write('# Capirca-shaped, %d terms, seed %d: bench/gen_shapes.py\n'
                % (args.terms, args.seed))
        f.write('table capirca\n')
        if args.bench_traffic:
            f.write('option stateless\noption filter-loopback\n')
        f.write('default in deny\ndefault out allow\n\n')
        for name, items in plan.groups:
            f.write('hosts %s = { %s }\n' % (name, ', '.join(items)))
        f.write('\n')
        for t in terms:
            words = [t['action'], 'in']
            kind, v = t['svc']
            if kind == 'names':
                words.append('service ' + (v[0] if len(v) == 1 else
                                           '{ %s }' % ', '.join(v)))
            else:
                ports, proto = v
                if len(ports) == 1:
                    words.append('port %s/%s' % (port_text(ports[0]), proto))
                else:
                    words.append('port { %s }/%s' % (', '.join(map(port_text, ports)), proto))
            if t['src'] is not None:
                words.append('from ' + addr_text(t['src']))
            if t['dst'] is not None:
                words.append('to ' + t['dst'])
            if t['log']:
                words.append('log "t%d "' % t['i'])
            if t['limit']:
                words.append('limit 100/second')
            words.append('comment "term-%d"' % t['i'])
            f.write(' '.join(words) + '\n')
        if args.bench_traffic:
            f.write('allow in from 127.0.0.0/8 comment "the benchmark traffic"\n')

    # Capirca: the same groups and terms
    def token(item):
        return item[1:].upper() if item.startswith('$') else item

    with open(os.path.join(out, 'capirca', 'def', 'NETWORK.net'), 'w') as f:
        for name, items in plan.groups:
            f.write('%s = %s\n\n' % (name.upper(), '\n    '.join(map(token, items))))
        for t in terms:
            if isinstance(t['src'], list):
                f.write('INLINE_%d = %s\n\n' % (t['i'], '\n    '.join(t['src'])))
    svc_tokens = {}

    def svc_token(name, tcp, udp):
        if name not in svc_tokens:
            svc_tokens[name] = ['%s/tcp' % port_text(p) for p in tcp] + \
                               ['%s/udp' % port_text(p) for p in udp]
        return name

    term_svc = []
    for t in terms:
        kind, v = t['svc']
        if kind == 'names':
            toks = [svc_token(n.upper().replace('-', '_'), *SERVICES[n]) for n in v]
            protos = sorted({p for n in v for p, ports in
                             zip(('tcp', 'udp'), SERVICES[n]) if ports})
        else:
            ports, proto = v
            tcp, udp = (ports, []) if proto == 'tcp' else ([], ports)
            toks = [svc_token('PORTS_%d' % t['i'], tcp, udp)]
            protos = [proto]
        term_svc.append((toks, protos))
    with open(os.path.join(out, 'capirca', 'def', 'SERVICES.svc'), 'w') as f:
        for name in svc_tokens:
            f.write('%s = %s\n\n' % (name, '\n    '.join(svc_tokens[name])))

    targets = [
        ('iptables', 'iptables INPUT DROP inet', True),
        ('ip6tables', 'iptables INPUT DROP inet6', True),
        ('nftables', 'nftables inet INPUT', False),
        ('pf', 'packetfilter capirca mixed in', True),
    ]
    action = {'allow': 'accept', 'deny': 'deny', 'reject': 'reject'}
    with open(os.path.join(out, 'capirca', 'policies', 'pol', 'capirca.pol'), 'w') as f:
        for tname, target, has_reject in targets:
            f.write('header {\n  comment:: "capirca-shaped %s"\n  target:: %s\n}\n\n'
                    % (tname, target))
            for t, (toks, protos) in zip(terms, term_svc):
                f.write('term %s-term-%d {\n' % (tname, t['i']))
                f.write('  comment:: "term-%d"\n' % t['i'])
                if isinstance(t['src'], list):
                    f.write('  source-address:: INLINE_%d\n' % t['i'])
                elif t['src'] is not None:
                    f.write('  source-address:: %s\n' % token(t['src']))
                if t['dst'] is not None:
                    f.write('  destination-address:: %s\n' % token(t['dst']))
                f.write('  destination-port:: %s\n' % ' '.join(toks))
                f.write('  protocol:: %s\n' % ' '.join(protos))
                if t['log']:
                    f.write('  logging:: true\n')
                a = t['action']
                if a == 'reject' and not has_reject:
                    a = 'deny'
                f.write('  action:: %s\n}\n\n' % action[a])


def blocklist(n, rng):
    """n distinct, non-adjacent entries; IPv4 ones first, at most 48."""
    out = []
    # IPv4: 198.51.100.64-255 and 203.0.113.64-255 (not the first 64 of
    # either: the rules' admins, monitoring hosts, mail relays and BGP
    # peers live there) in blocks of 8 addresses; each block gives one
    # entry inside its addresses 1-7 (a host, the /31 at 2 or the /30 at
    # 4), so no two entries touch
    v4 = []
    for base in ('198.51.100.', '203.0.113.'):
        for b in range(64, 256, 8):
            kind = rng.random()
            if kind < 0.7:
                v4.append('%s%d' % (base, b + rng.randint(1, 6)))
            elif kind < 0.85:
                v4.append('%s%d/31' % (base, b + 2))
            else:
                v4.append('%s%d/30' % (base, b + 4))
    v4_count = min(len(v4), n // 8)
    out.extend(v4[:v4_count])
    # IPv6: /64s in 2001:db8:0000-7fff::/33, /128 hosts in
    # 2001:db8:8000-ffff::/33; an odd last word keeps /64s non-adjacent
    # and hosts apart
    seen = set()
    while len(out) < n:
        if rng.random() < 0.6:
            hi, lo = rng.randrange(0, 0x8000), rng.randrange(0, 0x10000) | 1
            key = (0, hi, lo)
            text = '2001:db8:%x:%x::/64' % (hi, lo)
        else:
            hi, mid = rng.randrange(0x8000, 0x10000), rng.randrange(0, 0x10000)
            host = rng.randrange(0, 1 << 31) * 2 + 1
            key = (1, hi, mid, host)
            text = str(ipaddress.IPv6Address('2001:db8:%x:%x::' % (hi, mid)) + host)
        if key in seen:
            continue
        seen.add(key)
        out.append(text)
    return out


REALWORLD = '''\
hosts admins = { 198.51.100.0/28, 2001:db8:a::/48 }
hosts monitoring = { 198.51.100.20, 198.51.100.21, 2001:db8:b::20 }
hosts internal = { 198.51.100.0/25, 2001:db8::/44 }
hosts mailrelays = { 203.0.113.25, 2001:db8:25::25 }
hosts vpn_clients = { 198.51.100.128/26, 2001:db8:c::/64 }
hosts backup = { 198.51.100.40, 2001:db8:b::40 }
hosts bgp_peers = { 203.0.113.1, 2001:db8:ffff::1 }
services exporters = { node-exporter, prometheus, alertmanager, zabbix-agent }
services mail = { smtp, submission, imaps, pop3s }
services vpn = { wireguard, openvpn, ipsec }

default in deny
default forward deny
default out allow

deny in from $blocklist log "blocklist " comment "drop the blocklist first"
allow in service ssh from $admins limit 10/minute log "ssh " comment "admins"
allow in on wg0 service ssh from $vpn_clients comment "admins over the VPN"
allow in service { http, https } comment "the web site"
allow in port 8443/tcp from $admins comment "admin panel"
allow in service $exporters from $monitoring comment "exporters"
allow in service snmp from $monitoring
allow in service domain from $internal comment "resolver for the LAN"
allow in service ntp from $internal comment "time for the LAN"
allow in service $mail comment "mail for users"
allow in service $vpn comment "VPN endpoints"
allow in proto esp comment "IPsec ESP"
allow in on wg0 service { domain, https, http-alt } from $vpn_clients
allow in service rsync from $backup comment "backups"
allow in service bgp from $bgp_peers
allow in service syslog from $internal
allow in service syslog-tls from $internal
allow in service ldaps from $internal
allow in service kerberos from $internal
allow in service postgresql from $internal
reject in service { ident/tcp, finger, telnet } comment "fail fast"
allow in icmp echo-request limit 5/second
allow in icmpv6 echo-request limit 5/second
deny in service { microsoft-ds, netbios-ssn } log "smb " comment "noisy scanners"
allow out service { domain, ntp, https, http }
allow out service smtp to $mailrelays
deny out service smtp log "out-smtp " comment "no direct mail"
'''


def blocklist_feed(n, rng, hosts_only):
    """n distinct entries shaped like a threat feed (--blocklist-mix).

    threat: 92 % single IPv4 hosts, 6 % IPv4 prefixes (/24 to /29), 2 %
    IPv6 (/128 hosts and /64s); hosts: single addresses only (98 % IPv4,
    2 % IPv6 /128). A feed of a million IPv4 hosts does not fit in the
    768 addresses of the IPv4 documentation space, so these lists take
    their IPv4 addresses from 240.0.0.0/4 (reserved, "future use": no
    packet from a real host carries one) and their IPv6 ones from
    2001:db8::/32. They are for the benchmarks only, where nothing sends
    from them: hosts in 240.0.0.0/5, prefixes in 248.0.0.0/5, so hosts
    and prefixes never merge; hosts are odd addresses, so no two hosts
    merge either and the count of kernel elements is the count of
    lines."""
    out = []
    seen = set()
    while len(out) < n:
        r = rng.random()
        if r < 0.02:
            hi, mid = rng.randrange(0x8000, 0x10000), rng.randrange(0, 0x10000)
            host = rng.randrange(0, 1 << 31) * 2 + 1
            if not hosts_only and rng.random() < 0.5:
                key = (6, hi, mid)
                text = '2001:db8:%x:%x::/64' % (hi & 0x7fff, mid | 1)
            else:
                key = (6, hi, mid, host)
                text = str(ipaddress.IPv6Address('2001:db8:%x:%x::' % (hi, mid)) + host)
        elif hosts_only or r < 0.94:
            a = (240 << 24) + rng.randrange(0, 1 << 26) * 2 + 1
            key = (4, a)
            text = str(ipaddress.IPv4Address(a))
        else:
            plen = rng.randint(24, 29)
            # a prefix in a block of 512 addresses of its own, so that
            # prefixes do not nest or touch
            a = (248 << 24) + rng.randrange(0, 1 << 18) * 512
            key = (4, a, 'net')
            text = '%s/%d' % (ipaddress.IPv4Address(a), plen)
        if key in seen:
            continue
        seen.add(key)
        out.append(text)
    return out


def write_realworld(args):
    rng = random.Random(args.seed)
    if args.blocklist_mix == 'doc':
        entries = blocklist(args.blocklist, rng)
    else:
        entries = blocklist_feed(args.blocklist, rng, args.blocklist_mix == 'hosts')
    out = args.out
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'realworld.policy'), 'w') as f:
        f.write('# real-world-shaped, blocklist of %d, seed %d: bench/gen_shapes.py\n'
                % (args.blocklist, args.seed))
        f.write('table edge\n')
        if args.bench_traffic:
            f.write('option stateless\noption filter-loopback\n')
        if args.blocklist_file:
            with open(os.path.join(out, 'blocklist.txt'), 'w') as b:
                b.write('# %d entries\n' % len(entries))
                b.write('\n'.join(entries) + '\n')
            f.write('hosts blocklist = file "blocklist.txt"\n')
        else:
            f.write('hosts blocklist = {\n')
            for k in range(0, len(entries), 8):
                f.write('    ' + ', '.join(entries[k:k + 8]) + '\n')
            f.write('}\n')
        body = REALWORLD
        if args.bench_traffic:
            body = body.replace('deny in service { microsoft-ds',
                                'allow in from 127.0.0.0/8 comment "the benchmark traffic"\n'
                                'deny in service { microsoft-ds')
        f.write(body)
        f.write('deny in log "drop " comment "log the rest before the default"\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='shape', required=True)
    c = sub.add_parser('capirca')
    c.add_argument('--terms', type=int, default=2000)
    r = sub.add_parser('realworld')
    r.add_argument('--blocklist', type=int, default=100000)
    r.add_argument('--blocklist-file', action='store_true')
    r.add_argument('--blocklist-mix', choices=('doc', 'threat', 'hosts'), default='doc')
    for p in (c, r):
        p.add_argument('--seed', type=int, default=1)
        p.add_argument('--bench-traffic', action='store_true')
        p.add_argument('out')
    args = ap.parse_args()
    if args.shape == 'capirca':
        write_capirca(args)
    else:
        write_realworld(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
