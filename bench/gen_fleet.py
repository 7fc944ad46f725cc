#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a fleet for `portcullis generate -o 'DIR/%n.nft' POLICY...`:
N host policies, each including three shared profiles and a 500-entry
group file.  Deterministic: the same N gives the same files.

    gen_fleet.py OUTDIR N
      OUTDIR/shared/{base,web,monitoring}.policy, OUTDIR/shared/clients.policy
      OUTDIR/hosts/host-0001.policy ... host-N.policy
"""
import os
import sys


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    shared = os.path.join(out, 'shared')
    hosts = os.path.join(out, 'hosts')
    os.makedirs(shared, exist_ok=True)
    os.makedirs(hosts, exist_ok=True)

    def write(path, text):
        with open(path, 'w') as f:
            f.write(text)

    # 500 client networks: /24s of the documentation ranges and 2001:db8::/32.
    members = []
    for i in range(250):
        members.append('198.51.%d.0/24' % (i % 256) if i < 128 else '203.0.%d.%d/32' % (113, i))
    for i in range(250):
        members.append('2001:db8:%x::/48' % (0x1000 + i))
    write(os.path.join(shared, 'clients.policy'),
          '# 500 client networks\nhosts clients = {\n' +
          ''.join('  %s,\n' % m for m in members[:-1]) + '  %s\n}\n' % members[-1])
    write(os.path.join(shared, 'base.policy'),
          '# every host: deny in, SSH from the admins\n'
          'hosts admins = { 192.0.2.0/26, 2001:db8:100::/48 }\n'
          'default in deny\n'
          'default forward deny\n'
          'allow in service ssh/tcp from $admins limit 10/minute\n'
          'allow in service ntp/udp\n')
    write(os.path.join(shared, 'web.policy'),
          '# web servers\n'
          'services web = { http, https }\n'
          'allow in service $web from $clients\n'
          'reject in service { telnet, finger }\n')
    write(os.path.join(shared, 'monitoring.policy'),
          '# the monitoring servers scrape every host\n'
          'hosts monitors = { 192.0.2.64/28, 2001:db8:200::/64 }\n'
          'allow in port { 9100/tcp, 9102/tcp } from $monitors\n'
          'allow in proto icmp from $monitors\n')
    own = ['imap', 'imaps', 'smtp', 'submission', 'postgresql', 'mysql', 'redis', 'ldap',
           'ldaps', 'kerberos', 'rsync', 'git', 'svn', 'nfs', 'microsoft-ds', 'domain']
    for h in range(1, n + 1):
        # each host opens one service of its own to one address
        write(os.path.join(hosts, 'host-%04d.policy' % h),
              'table host%04d\n'
              'include "../shared/clients.policy"\n'
              'include "../shared/base.policy"\n'
              'include "../shared/web.policy"\n'
              'include "../shared/monitoring.policy"\n'
              'allow in service %s from 192.0.2.%d\n' % (h, own[h % len(own)], h % 250 + 1))


if __name__ == '__main__':
    main()
