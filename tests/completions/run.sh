#!/bin/bash
# The shell completions complete commands, options, backends and service
# names from the program itself. bash runs its completion function; zsh
# runs its function with compadd/_describe/_files replaced by printers
# (zsh's completion system needs a terminal); fish asks `complete -C`.
# Usage: run.sh PORTCULLIS SOURCE_ROOT
set -u
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The completions call `portcullis` by the name typed: put the built one first.
mkdir "$tmp/bin"
ln -s "$prog" "$tmp/bin/portcullis"
export PATH="$tmp/bin:$PATH"
fail=0

expect() { # WHAT EXPECTED-WORD OUTPUT
	if ! printf '%s\n' "$3" | grep -qx -- "$2"; then
		echo "FAIL: $1: '$2' not offered; got:" >&2
		printf '%s\n' "$3" | head -20 >&2
		fail=1
	fi
}
refuse() { # WHAT UNEXPECTED-WORD OUTPUT
	if printf '%s\n' "$3" | grep -qx -- "$2"; then
		echo "FAIL: $1: '$2' offered" >&2
		fail=1
	fi
}

# Service names come from `lookup --names`.
names=yes
portcullis lookup --names >/dev/null || { echo "FAIL: portcullis lookup --names" >&2; fail=1; }

# --- bash
bashc() { # WORDS... (the last one is the word being completed)
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _portcullis;
		printf "%s\n" "${COMPREPLY[@]}"' bash "$src/completions/portcullis.bash" "$@"
}
out=$(bashc portcullis gen); expect "bash command" generate "$out"
out=$(bashc portcullis ""); expect "bash commands" lookup "$out"; expect "bash commands" apply "$out"
out=$(bashc portcullis generate -b ""); expect "bash backends" ip6tables "$out"; expect "bash backends" pf "$out"
out=$(bashc portcullis generate --no); expect "bash options" --no-optimize "$out"; refuse "bash options" --dry-run "$out"
out=$(bashc portcullis apply --d); expect "bash apply options" --dry-run "$out"
out=$(bashc portcullis generate --pf-dialect ""); expect "bash pf dialect" freebsd "$out"
touch "$tmp/web.policy" "$tmp/notes.txt"
out=$(cd "$tmp" && bashc portcullis check ""); expect "bash policy files" web.policy "$out"; refuse "bash policy files" notes.txt "$out"
if [ $names = yes ]; then
	out=$(bashc portcullis lookup ss); expect "bash service names" ssh "$out"
fi

# --- zsh
if command -v zsh >/dev/null; then
	zshc() { # WORDS... (the last one is the word being completed)
		zsh -f -c '
			compadd() { local a; for a; do [[ $a == -a ]] && { shift; print -l -- ${(P)1}; return; }; done; [[ $1 == -- ]] && shift; print -l -- "$@"; }
			_describe() { print -l -- ${${(P)4}%%:*}; }
			_files() { print -l -- ${~${2:-*}}; }
			source "$1"; shift
			words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
			_portcullis' zsh "$src/completions/_portcullis" "$@"
	}
	out=$(zshc portcullis gen); expect "zsh commands" generate "$out"
	out=$(zshc portcullis generate -b ""); expect "zsh backends" iptables "$out"
	out=$(zshc portcullis generate --n); expect "zsh options" --no-lint "$out"
	out=$(cd "$tmp" && zshc portcullis check ""); expect "zsh policy files" web.policy "$out"; refuse "zsh policy files" notes.txt "$out"
	if [ $names = yes ]; then
		out=$(zshc portcullis lookup ss); expect "zsh service names" ssh "$out"
	fi
	zsh -n "$src/completions/_portcullis" || fail=1
else
	echo "SKIP: zsh is not installed (apt-get install zsh)"
fi

# --- fish
if command -v fish >/dev/null; then
	fishc() { fish --no-config -c "source '$src/completions/portcullis.fish'; complete -C '$1'" | cut -f1; }
	out=$(fishc "portcullis gen"); expect "fish commands" generate "$out"
	out=$(fishc "portcullis generate -b "); expect "fish backends" nft "$out"
	out=$(fishc "portcullis diff --no"); expect "fish options" --no-optimize "$out"
	out=$(cd "$tmp" && fishc "portcullis check "); expect "fish policy files" web.policy "$out"; refuse "fish policy files" notes.txt "$out"
	if [ $names = yes ]; then
		out=$(fishc "portcullis lookup ss"); expect "fish service names" ssh "$out"
	fi
else
	echo "SKIP: fish is not installed (apt-get install fish)"
fi

[ $fail = 0 ] && echo "completions: ok"
exit $fail
