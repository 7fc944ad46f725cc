# fish completion for portcullis(8). Commands, options and backends come
# from the program itself, service names from `portcullis lookup --names`.

function __portcullis_commands
    portcullis --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { n = $1; $1 = ""; sub(/^ +/, ""); print n "\t" $0 } on && /^$/ { exit }'
end

function __portcullis_command
    set -l words (commandline -opc)
    for w in $words[2..-1]
        if not string match -q -- '-*' $w
            echo $w
            return 0
        end
    end
    return 1
end

function __portcullis_options
    set -l cmd (__portcullis_command)
    portcullis $cmd --help 2>/dev/null | string match -r -a -g -- '(?:^|[ \[,])(-[-a-zA-Z]+)' | sort -u
end

# Policies and the directories on the way to them (fish's own suffix
# completion also offers every other file).
function __portcullis_policies
    set -l cur (commandline -ct)
    for f in $cur*
        if test -d $f
            echo $f/
        else if string match -q -- '*.policy' $f
            echo $f
        end
    end
end

function __portcullis_prev_is
    set -l words (commandline -opc)
    contains -- $words[-1] $argv
end

complete -c portcullis -f
complete -c portcullis -n 'not __portcullis_command' -a '(__portcullis_commands)'
complete -c portcullis -n 'not __portcullis_command' -l help -l version
complete -c portcullis -n '__portcullis_command; and string match -q -- "-*" (commandline -ct)' -a '(__portcullis_options)'
complete -c portcullis -n '__portcullis_prev_is -b --backend' -a '(portcullis backends 2>/dev/null | awk "NR > 1 { print \$1 }")'
complete -c portcullis -n '__portcullis_prev_is --pf-dialect' -a 'openbsd freebsd'
complete -c portcullis -n '__portcullis_prev_is --registry --overlay --template -o --output --state-dir' -F
complete -c portcullis -n 'test "$(__portcullis_command)" = lookup' -a '(portcullis lookup --names 2>/dev/null)'
complete -c portcullis -n '__portcullis_command; and not contains -- (__portcullis_command) lookup backends confirm; and not __portcullis_prev_is -b --backend --pf-dialect --confirm -W' -a '(__portcullis_policies)'
