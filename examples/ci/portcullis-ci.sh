#!/bin/sh
# SPDX-License-Identifier: MIT
# A CI step for a repository of firewall policies, for any CI system:
#
#   portcullis-ci.sh BASE [COMMENT.md]
#
#  1. `portcullis check` of every policy in the repository (errors,
#     warnings, broken `expect` statements) -- scripts/vcs/check-policies;
#  2. every generated ruleset kept beside a policy (NAME.nft, NAME.v4,
#     NAME.v6, NAME.pf) is what `generate` writes now -- check-generated;
#  3. for every policy changed since the git revision BASE (the target
#     branch of the pull request, e.g. origin/main), `portcullis compare
#     --markdown BASE:PATH PATH` goes into COMMENT.md (default
#     portcullis-comment.md): the review comment to post.
# Exit 1 when step 1 or 2 fails; a change of meaning alone is no failure
# (the reviewer reads it). PORTCULLIS (default: portcullis on PATH) and
# PORTCULLIS_VCS (the directory of check-policies and check-generated;
# default: scripts/vcs of the portcullis source beside this script) may be
# set. Run from the top of the repository.
set -u
base=${1:?usage: portcullis-ci.sh BASE [COMMENT.md]}
comment=${2:-portcullis-comment.md}
pc=${PORTCULLIS:-portcullis}
export PORTCULLIS="$pc"
vcs=${PORTCULLIS_VCS:-$(cd "$(dirname "$0")/../../scripts/vcs" 2>/dev/null && pwd)}
status=0

policies=$(git ls-files '*.policy')
# shellcheck disable=SC2086
[ -z "$policies" ] || "$vcs/check-policies" $policies || status=1
# shellcheck disable=SC2086
[ -z "$policies" ] || "$vcs/check-generated" $policies || status=1

: >"$comment"
for p in $(git diff --name-only "$base" -- '*.policy'); do
	if [ ! -f "$p" ]; then
		printf '### portcullis: `%s` removed\n\n' "$p" >>"$comment"
	elif ! git cat-file -e "$base:$p" 2>/dev/null; then
		printf '### portcullis: `%s` is new\n\n' "$p" >>"$comment"
	else
		"$pc" compare --markdown "$base:$p" "$p" >>"$comment"
		[ $? -le 1 ] || status=1
		echo >>"$comment"
	fi
done
[ -s "$comment" ] || echo "### portcullis: no policy changed" >>"$comment"
cat "$comment"
exit $status
