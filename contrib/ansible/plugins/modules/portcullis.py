#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: MIT
"""Ansible module: apply a portcullis firewall policy to a Linux host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: portcullis
short_description: Apply a portcullis firewall policy, with a rollback unless the host stays reachable
version_added: "0.1.0"
description:
  - Installs a portcullis policy (and the files it includes) on the host and
    programs the kernel's nftables table with C(portcullis apply), in one
    netlink transaction.
  - Idempotent. The task changes nothing, and reports C(changed=false), when
    the policy files already hold the given text and C(portcullis diff)
    finds the live table equal to the policy.
  - Check mode only stages the files in a temporary directory, checks them
    with C(portcullis check) and compares; nothing on the host changes.
  - Diff mode shows the change of the policy files and, when C(portcullis compare)
    exists, the change in meaning (which packets are newly allowed or refused);
    otherwise the change of the generated nftables ruleset, or the kernel's
    drift from an unchanged policy.
  - With I(confirm_timeout), the policy is applied with
    C(portcullis apply --confirm); the task then opens a new connection to
    the host and confirms from there. A policy that cuts Ansible off cannot
    be confirmed, and portcullis rolls the kernel back by itself after
    I(confirm_timeout) seconds; the policy files are put back too, so the
    next boot does not apply the policy that cut the host off.
  - The action plugin of the same name reads I(src) and I(include_src) on the
    controller and does the confirmation; the module runs on the host.
author:
  - portcullis maintainers
requirements:
  - portcullis installed on the host (the C(portcullis.firewall.setup) role installs it)
  - root on the host (netlink)
options:
  state:
    description:
      - C(applied) installs the policy and programs the kernel.
      - C(confirmed) confirms a pending apply of an earlier task that ran
        with I(confirm_timeout) and I(confirm=false). It fails when none is
        pending (already rolled back, or never started).
    type: str
    choices: [applied, confirmed]
    default: applied
  policy:
    description:
      - The policy's text. One of I(policy) and I(src) is required with
        I(state=applied).
    type: str
  src:
    description:
      - A policy file on the controller (searched like the C(copy) module's
        C(src), in the role's or playbook's C(files/)). Read by the action
        plugin into I(policy).
    type: path
  includes:
    description:
      - Files the policy includes, as a dictionary of a path relative to the
        policy's directory (as written in the policy's C(include) lines) to
        that file's text. Written beside I(dest), each in the same
        transaction as the policy.
    type: dict
    default: {}
  include_src:
    description:
      - Files on the controller to install as includes, under their base
        names (an C(include "NAME") in the policy). Read by the action plugin
        into I(includes).
    type: list
    elements: path
    default: []
  dest:
    description:
      - Where the policy goes on the host. The default is the file that
        C(portcullis.service) applies at boot.
      - Rule comments in the kernel carry this path, so the policy is always
        applied from here.
    type: path
    default: /etc/portcullis/portcullis.policy
  confirm_timeout:
    description:
      - Seconds within which the apply must be confirmed from a new connection
        to the host, or it is rolled back (C(portcullis apply --confirm)).
        0 applies without a rollback.
    type: int
    default: 0
  confirm:
    description:
      - With I(confirm_timeout), confirm from a new connection within the same
        task. C(false) leaves the apply pending, for a later task with
        I(state=confirmed) (after other checks) or to let it roll back.
    type: bool
    default: true
  force:
    description:
      - Pass C(--force) to C(portcullis apply), which skips the SSH lockout guard
        and replace a table of the same name that portcullis did not make.
        I(confirm_timeout) is the safer way to apply a policy that limits SSH.
    type: bool
    default: false
  state_dir:
    description:
      - Where the host keeps the previous policy files and the log of a
        pending apply until it is confirmed or rolled back.
    type: path
    default: /var/lib/portcullis/ansible
  portcullis:
    description:
      - The portcullis program on the host. Default, C(portcullis) found in
        the C(PATH), C(/usr/sbin) or C(/sbin).
    type: path
notes:
  - Supports check mode and diff mode.
  - The environment of the task reaches the program (C(PORTCULLIS_RUNDIR),
    C(PORTCULLIS_OVERLAY), C(PORTCULLIS_REGISTRY)...).
seealso:
  - name: portcullis(8)
    description: the command line, C(apply --confirm), C(diff) and C(confirm)
    link: https://manpages.debian.org/portcullis.8
'''

EXAMPLES = r'''
- name: The web servers' firewall, rolled back unless Ansible still gets in
  portcullis.firewall.portcullis:
    src: "policies/{{ inventory_hostname }}.policy"
    include_src:
      - policies/admins.policy
      - policies/monitoring.policy
    confirm_timeout: 60

- name: Inline policy, applied without a rollback
  portcullis.firewall.portcullis:
    policy: |
      table web
      default in deny
      allow in service { http, https }
      allow in service ssh/tcp from 192.0.2.0/24

- name: Apply, check something else, then confirm in a later task
  portcullis.firewall.portcullis:
    src: web.policy
    confirm_timeout: 120
    confirm: false
- name: Our monitoring still reaches the host
  ansible.builtin.uri:
    url: "http://{{ inventory_hostname }}:9100/metrics"
  delegate_to: localhost
- name: Keep it
  portcullis.firewall.portcullis:
    state: confirmed
'''

RETURN = r'''
files_changed:
  description: The policy files (I(dest) and includes) whose text changed.
  returned: always
  type: list
  elements: str
kernel_changed:
  description: Whether the live table differed from the policy (C(portcullis diff) exit 1).
  returned: state=applied
  type: bool
pending_confirmation:
  description: The apply awaits confirmation (I(confirm_timeout) with I(confirm=false)).
  returned: state=applied
  type: bool
run_dir:
  description: The directory under I(state_dir) with the log of a pending apply and the previous files.
  returned: when an apply with I(confirm_timeout) started
  type: str
meaning:
  description: C(portcullis compare) of the installed and the new policy, when the program has it.
  returned: when the policy files changed and C(portcullis compare) exists
  type: str
stderr:
  description: What portcullis said (diagnostics, warnings, the apply's report).
  returned: always
  type: str
'''

import difflib
import os
import shlex
import shutil
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

PENDING_MARK = 'unless confirmed'


def read_text(path):
    try:
        with open(path, 'r', encoding='utf-8', errors='surrogateescape') as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_text(path, text, mode=0o644):
    with open(path, 'w', encoding='utf-8', errors='surrogateescape') as f:
        f.write(text)
    os.chmod(path, mode)


def check_relative(module, rel):
    norm = os.path.normpath(rel)
    if os.path.isabs(rel) or norm == '.' or norm.startswith('..'):
        module.fail_json(msg="includes: '%s' must be a path below the policy's directory" % rel)
    return norm


class Portcullis(object):
    def __init__(self, module):
        self.module = module
        p = module.params
        self.prog = p['portcullis'] or module.get_bin_path(
            'portcullis', required=True, opt_dirs=['/usr/sbin', '/sbin'])
        self.dest = os.path.abspath(p['dest'])
        self.destdir = os.path.dirname(self.dest)
        self.state_dir = p['state_dir']

    def run(self, *args):
        return self.module.run_command([self.prog] + list(args))

    def has_command(self, name):
        rc, _, _ = self.run(name, '--help')
        return rc == 0

    # The files this task manages: (path on the host, relative name, new text).
    def files(self):
        out = [(self.dest, os.path.basename(self.dest), self.module.params['policy'])]
        for rel, text in sorted(self.module.params['includes'].items()):
            rel = check_relative(self.module, rel)
            out.append((os.path.join(self.destdir, rel), rel, text if text is not None else ''))
        return out

    def pending_runs(self):
        if not os.path.isdir(self.state_dir):
            return []
        runs = []
        for name in sorted(os.listdir(self.state_dir)):
            d = os.path.join(self.state_dir, name)
            if name.startswith('run-') and os.path.isdir(d) and \
                    not os.path.exists(os.path.join(d, 'rc')):
                runs.append(d)
        return runs

    def forget_finished_runs(self):
        if not os.path.isdir(self.state_dir):
            return
        for name in os.listdir(self.state_dir):
            d = os.path.join(self.state_dir, name)
            if name.startswith('run-') and os.path.exists(os.path.join(d, 'rc')):
                shutil.rmtree(d, ignore_errors=True)


def ruleset_diff(pc, stage):
    """The nft ruleset before and after, as a unified diff (no `compare`).
    Both are generated from their own directory under the same relative
    name, so that the rule comments (policy locations) compare equal."""
    name = os.path.basename(pc.dest)
    before = ''
    if os.path.exists(pc.dest):
        rc, before, _ = pc.module.run_command(
            [pc.prog, 'generate', '-b', 'nft', '--no-lint', name], cwd=pc.destdir)
        if rc != 0:
            before = ''
    rc, after, err = pc.module.run_command(
        [pc.prog, 'generate', '-b', 'nft', '--no-lint', name], cwd=stage)
    if rc != 0:
        return 'portcullis generate -b nft of the new policy failed:\n' + err
    return ''.join(difflib.unified_diff(
        before.splitlines(True), after.splitlines(True),
        'nft ruleset now', 'nft ruleset of the new policy'))


def do_applied(module, pc):
    p = module.params
    if p['policy'] is None:
        module.fail_json(msg='state=applied needs policy (or src)')
    result = dict(changed=False, files_changed=[], kernel_changed=False,
                  pending_confirmation=False, stderr='')
    if pc.pending_runs():
        module.fail_json(msg='an earlier apply with confirm_timeout awaits confirmation '
                         '(state=confirmed keeps it; otherwise wait for its rollback)',
                         run_dir=pc.pending_runs()[-1])

    files = pc.files()
    for path, rel, text in files:
        if read_text(path) != text:
            result['files_changed'].append(path)

    # Stage the new files in a directory of their own, same layout, and check
    # them there: a policy with errors changes nothing.
    stage = tempfile.mkdtemp(prefix='portcullis-stage-', dir=module.tmpdir)
    for path, rel, text in files:
        target = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        write_text(target, text)
    staged_policy = os.path.join(stage, os.path.basename(pc.dest))
    rc, out, err = pc.run('check', staged_policy)
    err = err.replace(stage + '/', pc.destdir + '/')
    result['stderr'] = err
    if rc != 0:
        module.fail_json(msg='portcullis check refused the policy', rc=rc, stderr=err,
                         files_changed=result['files_changed'])

    diffs = []
    if result['files_changed']:
        result['changed'] = True
        for path, rel, text in files:
            if path in result['files_changed']:
                diffs.append(dict(before_header=path, after_header=path,
                                  before=read_text(path) or '', after=text))
        if os.path.exists(pc.dest) and pc.has_command('compare'):
            rc, out, err = pc.run('compare', pc.dest, staged_policy)
            if rc in (0, 1):
                result['meaning'] = out.replace(stage + '/', pc.destdir + '/')
                diffs.append(dict(prepared='portcullis compare (the change in meaning):\n' +
                                  result['meaning']))
        if 'meaning' not in result:
            diffs.append(dict(prepared=ruleset_diff(pc, stage)))
    else:
        rc, out, err = pc.run('diff', pc.dest)
        if rc == 1:
            result['changed'] = result['kernel_changed'] = True
            diffs.append(dict(prepared='the kernel differs from %s:\n%s' % (pc.dest, out)))
        elif rc != 0:
            module.fail_json(msg='portcullis diff failed', rc=rc, stderr=err)
    if module._diff:
        result['diff'] = diffs
    if not result['changed'] or module.check_mode:
        module.exit_json(**result)
    if result['files_changed']:
        result['kernel_changed'] = True
    install_and_apply(module, pc, files, result)


def install_and_apply(module, pc, files, result):
    p = module.params
    pc.forget_finished_runs()
    os.makedirs(pc.state_dir, mode=0o700, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix='run-%d-' % int(time.time()), dir=pc.state_dir)
    prev = os.path.join(run_dir, 'previous')
    os.mkdir(prev)
    # Keep the previous files: put back if the kernel refuses the policy or
    # the apply is rolled back, so the files always say what the kernel has.
    restore = []
    for path, rel, text in files:
        if os.path.exists(path):
            keep = os.path.join(prev, rel)
            os.makedirs(os.path.dirname(keep), exist_ok=True)
            shutil.copy2(path, keep)
            restore.append('cp -p %s %s.tmp && mv -f %s.tmp %s' % (
                shlex.quote(keep), shlex.quote(path), shlex.quote(path), shlex.quote(path)))
        else:
            restore.append('rm -f %s' % shlex.quote(path))
    for path, rel, text in files:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644
        tmp = path + '.portcullis-new'
        write_text(tmp, text, mode)
        module.atomic_move(tmp, path)

    args = [pc.prog, 'apply']
    if p['force']:
        args.append('--force')
    if not p['confirm_timeout']:
        rc, out, err = module.run_command(args + [pc.dest])
        result['stderr'] += err
        if rc != 0:
            subprocess.call(['/bin/sh', '-c', ' ; '.join(restore) or 'true'])
            module.fail_json(msg='portcullis apply failed; the previous policy files are back',
                             rc=rc, **result)
        shutil.rmtree(run_dir, ignore_errors=True)
        module.exit_json(**result)

    # `apply --confirm` waits for the confirmation or the rollback: it runs
    # detached, so the task (and its connection) can end, and puts the
    # previous files back itself when it was not confirmed.
    log = os.path.join(run_dir, 'log')
    script = os.path.join(run_dir, 'apply.sh')
    args += ['--confirm', str(p['confirm_timeout']), pc.dest]
    rc_file = shlex.quote(os.path.join(run_dir, 'rc'))
    with open(script, 'w') as f:
        f.write('%s >%s 2>&1\n' % (' '.join(shlex.quote(a) for a in args), shlex.quote(log)))
        f.write('rc=$?\nif [ $rc -ne 0 ]; then\n%s\nfi\n' % ('\n'.join(restore) or 'true'))
        f.write('echo $rc >%s.tmp && mv %s.tmp %s\n' % (rc_file, rc_file, rc_file))
    subprocess.Popen(['/bin/sh', script], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     close_fds=True, start_new_session=True, cwd='/')
    result['run_dir'] = run_dir
    deadline = time.time() + 120
    while time.time() < deadline:
        text = read_text(log) or ''
        rc = read_text(os.path.join(run_dir, 'rc'))
        if rc is not None:
            result['stderr'] += text
            module.fail_json(msg='portcullis apply --confirm failed; the previous policy '
                             'files are back', rc=int(rc), **result)
        if PENDING_MARK in text:
            result['stderr'] += text
            result['pending_confirmation'] = True
            module.exit_json(**result)
        time.sleep(0.1)
    module.fail_json(msg='portcullis apply --confirm did not report within 120 s', **result)


def do_confirmed(module, pc):
    runs = pc.pending_runs()
    rc, out, err = pc.run('confirm')
    if rc != 0:
        module.fail_json(msg='nothing to confirm: %s' % err.strip(), rc=rc, stderr=err,
                         run_dir=runs[-1] if runs else None)
    # The detached apply ends once it hears of the confirmation.
    for run_dir in runs:
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(run_dir, 'rc')) and time.time() < deadline:
            time.sleep(0.1)
        shutil.rmtree(run_dir, ignore_errors=True)
    module.exit_json(changed=True, files_changed=[], stderr=err)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='applied', choices=['applied', 'confirmed']),
            policy=dict(type='str'),
            src=dict(type='path'),
            includes=dict(type='dict', default={}),
            include_src=dict(type='list', elements='path', default=[]),
            dest=dict(type='path', default='/etc/portcullis/portcullis.policy'),
            confirm_timeout=dict(type='int', default=0),
            confirm=dict(type='bool', default=True),
            force=dict(type='bool', default=False),
            state_dir=dict(type='path', default='/var/lib/portcullis/ansible'),
            portcullis=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    if module.params['src'] or module.params['include_src']:
        module.fail_json(msg='src and include_src are read on the controller by the action '
                         'plugin; call the module as portcullis.firewall.portcullis')
    if module.params['confirm_timeout'] < 0 or module.params['confirm_timeout'] > 86400:
        module.fail_json(msg='confirm_timeout takes 0 to 86400 seconds')
    pc = Portcullis(module)
    if module.params['state'] == 'confirmed':
        if module.check_mode:
            module.exit_json(changed=bool(pc.pending_runs()), files_changed=[], stderr='')
        do_confirmed(module, pc)
    do_applied(module, pc)


if __name__ == '__main__':
    main()
