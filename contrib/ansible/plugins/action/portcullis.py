# -*- coding: utf-8 -*-
# SPDX-License-Identifier: MIT
"""Action plugin of portcullis.firewall.portcullis: reads src/include_src on
the controller, runs the module, and confirms a `confirm_timeout` apply over
a new connection to the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleError, AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

MODULE = 'portcullis.firewall.portcullis'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def _read(self, src):
        path = self._find_needle('files', src)
        with open(path, 'rb') as f:
            return to_text(f.read(), errors='surrogate_or_strict')

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            src = args.pop('src', None)
            if src is not None:
                if args.get('policy') is not None:
                    raise AnsibleError('give policy or src, not both')
                args['policy'] = self._read(src)
            includes = dict(args.get('includes') or {})
            for inc in args.pop('include_src', None) or []:
                includes[os.path.basename(inc)] = self._read(inc)
            args['includes'] = includes
        except AnsibleError as e:
            result.update(failed=True, msg=to_text(e))
            return result

        applied = self._execute_module(module_name=MODULE, module_args=args,
                                       task_vars=task_vars)
        result.update(applied)
        if applied.get('failed') or not applied.get('pending_confirmation') or \
                not args.get('confirm', True):
            return result

        # Confirm over a new connection: the one that carried the apply is an
        # established flow, which almost any policy keeps; a new one shows
        # that Ansible can still get in. If it cannot, nothing confirms and
        # portcullis rolls the kernel and the files back by itself.
        confirm_args = dict(state='confirmed')
        for k in ('state_dir', 'portcullis', 'dest'):
            if k in args:
                confirm_args[k] = args[k]
        try:
            # (a local connection has nothing to reset)
            if getattr(self._connection, 'transport', '') != 'local':
                self._connection.reset()
            confirmed = self._execute_module(module_name=MODULE, module_args=confirm_args,
                                             task_vars=task_vars)
        except (AnsibleConnectionFailure, AnsibleError) as e:
            result.update(failed=True, unreachable_after_apply=True,
                          msg='applied, but a new connection to the host failed (%s): '
                              'portcullis rolls it back after confirm_timeout seconds'
                              % to_text(e))
            return result
        if confirmed.get('failed'):
            result.update(failed=True, msg='applied, but the confirmation failed: %s'
                          % confirmed.get('msg'))
            return result
        result['pending_confirmation'] = False
        result['confirmed'] = True
        result['stderr'] = result.get('stderr', '') + confirmed.get('stderr', '')
        return result
