# bash completion for portcullis(8).
# Commands, options and backends are read from the program itself
# (`portcullis --help`, `portcullis COMMAND --help`, `portcullis backends`),
# service names from `portcullis lookup --names`: the completion follows
# the installed version and the site's overlays and plugins.

_portcullis_commands()
{
	"$1" --help 2>/dev/null |
		awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'
}

_portcullis_options()
{
	"$1" "$2" --help 2>/dev/null | grep -oE -- '(^|[ [,])--?[a-zA-Z][-a-zA-Z]*' |
		sed 's/^[ [,]//' | sort -u
}

_portcullis_backends()
{
	"$1" backends 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_portcullis()
{
	local cur prev words cword prog cmd i
	_init_completion -n = 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	prog=${words[0]}
	cmd=""
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$(_portcullis_commands "$prog") --help --version" -- "$cur"))
		return
	fi
	case $prev in
	-b|--backend)
		COMPREPLY=($(compgen -W "$(_portcullis_backends "$prog")" -- "$cur"))
		return ;;
	--pf-dialect)
		COMPREPLY=($(compgen -W "openbsd freebsd" -- "$cur"))
		return ;;
	--registry|--overlay|--template|-o|--output|--state-dir)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	--confirm|-W)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_portcullis_options "$prog" "$cmd")" -- "$cur"))
		return
	fi
	case $cmd in
	lookup)
		COMPREPLY=($(compgen -W "$("$prog" lookup --names 2>/dev/null)" -- "$cur")) ;;
	backends|confirm)
		;;
	*)
		# policies, and directories on the way to them
		COMPREPLY=($(compgen -f -X '!*.policy' -- "$cur") $(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null ;;
	esac
}
complete -F _portcullis portcullis
