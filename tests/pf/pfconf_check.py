#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pf.conf syntax checker: there is no pfctl on Linux, so the pf outputs
are checked against the grammar of the manual instead.

Written from the GRAMMAR (BNF) section of pf.conf(5), for the statements
portcullis writes and a little around them:
  - OpenBSD: pf.conf(5) $OpenBSD: pf.conf.5,v 1.609 2026/01/18 (match
    rules with nat-to/rdr-to, received-on, max-pkt-rate, scrub only as a
    rule option; no nat/rdr/scrub rules since OpenBSD 4.7, no
    nat-anchor/rdr-anchor, no statement order);
  - FreeBSD: pf.conf(5) of FreeBSD 14, .Dd January 10, 2025 ($OpenBSD
    base revision 1.406): nat/rdr rules with "->", nat-anchor/rdr-anchor,
    no nat-to/rdr-to, no received-on, no max-pkt-rate, and the statement
    order pfctl enforces (set require-order, on by default): options,
    normalization, queueing, translation, filtering; tables anywhere.
Where the BNF is stricter than the manual's own EXAMPLES section (hosts
without "from", "to port 25"), the examples win: pfctl accepts them.

usage: pfconf_check.py --dialect openbsd|freebsd [--expect-fail] FILE...
Prints FILE:LINE: error: MESSAGE for each statement it rejects; exit
status 0 when every file is accepted, 1 otherwise (with --expect-fail:
0 when every file has an error, 1 when one is accepted), 2 on usage.
"""
import ipaddress
import re
import sys

# words pfctl reads as keywords, never as a name (an interface, a group)
KEYWORDS = {
    "all", "any", "anchor", "antispoof", "binat", "block", "drop", "file",
    "flags", "from", "group", "in", "inet", "inet6", "keep", "label", "log",
    "match", "modulate", "nat", "no", "no-route", "on", "os", "out", "pass",
    "port", "proto", "quick", "rdr", "return", "scrub", "self", "set",
    "state", "table", "tag", "tagged", "to", "urpf-failed", "user",
    "icmp-type", "icmp6-type", "received-on", "nat-to", "rdr-to", "queue",
    "synproxy", "max-pkt-rate", "load", "include",
}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]*$")
NUMBER = re.compile(r"^[0-9]+$")
TOKEN = re.compile(r'"[^"\n]*"|->|!=|<=|>=|<>|><|[{}()<>,!=]|[^\s{}()<>,!="#]+')


class Reject(Exception):
    pass


class Line:
    """One statement: its tokens and a cursor."""

    def __init__(self, tokens, dialect):
        self.t = tokens
        self.i = 0
        self.openbsd = dialect == "openbsd"

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def next(self, what="a token"):
        tok = self.peek()
        if tok is None:
            raise Reject("unexpected end of the statement, expected %s" % what)
        self.i += 1
        return tok

    def accept(self, *words):
        if self.peek() in words:
            return self.next()
        return None

    def expect(self, word):
        tok = self.next("'%s'" % word)
        if tok != word:
            raise Reject("expected '%s', got '%s'" % (word, tok))
        return tok

    def done(self):
        return self.i >= len(self.t)


def string(ln, what="a string"):
    tok = ln.next(what)
    if tok.startswith('"'):
        return tok[1:-1]
    if tok in KEYWORDS or not NAME.match(tok):
        raise Reject("expected %s, got '%s'" % (what, tok))
    return tok


def number(ln, what="a number"):
    tok = ln.next(what)
    if not NUMBER.match(tok):
        raise Reject("expected %s, got '%s'" % (what, tok))
    return int(tok)


def interface(ln):
    """interface-name | interface-group"""
    tok = ln.next("an interface")
    if tok.startswith('"'):
        tok = tok[1:-1]
    if tok in KEYWORDS or not NAME.match(tok) or len(tok) > 15:
        raise Reject("expected an interface or interface group, got '%s'" % tok)
    return tok


def ifspec(ln):
    """[ "!" ] interface | "{" interface-list "}" (commas optional)"""
    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            ln.accept("!")
            interface(ln)
            n += 1
        if not n:
            raise Reject("empty interface list")
        return
    ln.accept("!")
    interface(ln)


def address(ln):
    """address [ "/" mask-bits ] | "<" table ">" | "(" interface ")" ..."""
    if ln.accept("<"):
        string(ln, "a table name")
        ln.expect(">")
        return
    if ln.accept("("):
        # the addresses of an interface or group, followed when they
        # change; "self" is the group of all of them
        if not ln.accept("self"):
            interface(ln)
        ln.expect(")")
        return
    tok = ln.next("an address")
    try:
        ipaddress.ip_network(tok, strict=False)
        return
    except ValueError:
        pass
    if tok in KEYWORDS or not NAME.match(tok):
        raise Reject("expected an address, got '%s'" % tok)


def host(ln):
    ln.accept("!")
    address(ln)


def host_list_or_one(ln):
    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            host(ln)
            n += 1
        if not n:
            raise Reject("empty address list")
        return
    host(ln)


def port_op(ln):
    """unary-op | binary-op; a range is one token (80:90), or a <> b"""
    tok = ln.next("a port")
    if tok in ("=", "!=", "<", "<=", ">", ">="):
        tok = ln.next("a port")
        if not NUMBER.match(tok) and not NAME.match(tok):
            raise Reject("expected a port, got '%s'" % tok)
        return
    m = re.match(r"^([0-9]+):([0-9]+)$", tok)
    if m:
        if int(m.group(1)) > 65535 or int(m.group(2)) > 65535:
            raise Reject("port out of range in '%s'" % tok)
        return
    if NUMBER.match(tok):
        if int(tok) > 65535:
            raise Reject("port %s out of range" % tok)
        if ln.accept("<>", "><"):
            number(ln, "a port")
        return
    if tok in KEYWORDS or not NAME.match(tok):
        raise Reject("expected a port, got '%s'" % tok)


def port(ln):
    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            port_op(ln)
            n += 1
        if not n:
            raise Reject("empty port list")
        return
    port_op(ln)


def hosts(ln, required):
    """"all" | [ "from" ... [ port ] ] [ "to" ... [ port ] ]"""
    if ln.accept("all"):
        return
    seen = False
    if ln.accept("from"):
        seen = True
        if not ln.accept("any", "no-route", "urpf-failed", "self"):
            if ln.peek() != "port":
                host_list_or_one(ln)
        if ln.accept("port"):
            port(ln)
    if ln.accept("to"):
        seen = True
        if not ln.accept("any", "no-route", "self"):
            if ln.peek() != "port":
                host_list_or_one(ln)
        if ln.accept("port"):
            port(ln)
    if required and not seen:
        raise Reject("expected 'all' or 'from ... to ...', got '%s'" % ln.peek())


def protospec(ln):
    if not ln.accept("proto"):
        return
    names = ("tcp", "udp", "icmp", "icmp6", "sctp", "esp", "ah", "gre",
             "ipv6", "igmp", "pim", "ospf", "carp", "pfsync", "ipencap")

    def one():
        tok = ln.next("a protocol")
        if tok not in names and not (NUMBER.match(tok) and int(tok) < 256):
            raise Reject("unknown protocol '%s'" % tok)

    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            one()
            n += 1
        if not n:
            raise Reject("empty protocol list")
    else:
        one()


def icmp_types(ln):
    def one():
        tok = ln.next("an ICMP type")
        if not (NUMBER.match(tok) and int(tok) < 256) and not NAME.match(tok):
            raise Reject("bad ICMP type '%s'" % tok)
        if ln.accept("code"):
            ln.next("an ICMP code")

    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            one()
            n += 1
        if not n:
            raise Reject("empty ICMP type list")
    else:
        one()


def rate(ln, what):
    tok = ln.next(what)
    if not re.match(r"^[0-9]+/[0-9]+$", tok):
        raise Reject("expected NUMBER/SECONDS after %s, got '%s'" % (what, tok))


def state_opts(ln):
    """"(" state-opt [ "," ... ] ")" """
    ln.expect("(")
    while True:
        tok = ln.next("a state option")
        if tok in ("max", "max-src-nodes", "max-src-states", "max-src-conn"):
            number(ln)
        elif tok == "max-src-conn-rate":
            rate(ln, tok)
        elif tok == "overload":
            ln.expect("<")
            string(ln, "a table name")
            ln.expect(">")
            ln.accept("flush")
            ln.accept("global")
        elif tok == "source-track":
            ln.accept("rule", "global")
        elif tok in ("no-sync", "sloppy", "if-bound", "floating", "pflow"):
            if tok == "pflow" and not ln.openbsd:
                raise Reject("'pflow' is no state option of FreeBSD")
        else:
            raise Reject("unknown state option '%s'" % tok)
        if ln.accept(")"):
            return
        ln.expect(",")


def redirhost(ln):
    """redirhost | "{" redirhost-list "}" """
    if ln.accept("{"):
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            address(ln)
            n += 1
        if not n:
            raise Reject("empty address list")
        return
    address(ln)


def portspec(ln):
    if ln.accept("port"):
        tok = ln.next("a port")
        if not re.match(r"^([0-9]+|[A-Za-z][A-Za-z0-9-]*)(:([0-9]+|\*))?$", tok):
            raise Reject("bad redirection port '%s'" % tok)


def filteropts(ln, anchor=False):
    while not ln.done():
        if ln.peek() == "{" and anchor:
            return
        tok = ln.next()
        if tok in ("keep", "modulate", "synproxy") or (tok == "no" and ln.peek() == "state"):
            ln.expect("state")
            if ln.peek() == "(":
                state_opts(ln)
        elif tok in ("label", "tag"):
            string(ln)
        elif tok == "!" and ln.peek() == "tagged":
            ln.next()
            string(ln)
        elif tok == "tagged":
            string(ln)
        elif tok == "icmp-type" or tok == "icmp6-type":
            icmp_types(ln)
        elif tok == "max-pkt-rate":
            if not ln.openbsd:
                raise Reject("'max-pkt-rate' is not in FreeBSD's pf.conf(5)")
            rate(ln, tok)
        elif tok == "received-on" or (tok == "!" and ln.peek() == "received-on"):
            if tok == "!":
                ln.next()
            if not ln.openbsd:
                raise Reject("'received-on' is not in FreeBSD's pf.conf(5)")
            interface(ln)
        elif tok in ("nat-to", "rdr-to"):
            if not ln.openbsd:
                raise Reject("'%s' is OpenBSD's: FreeBSD writes nat/rdr rules with '->'" % tok)
            redirhost(ln)
            portspec(ln)
            ln.accept("static-port")
        elif tok == "flags":
            ln.next("TCP flags")
        elif tok == "fragment":
            ln.accept("reassemble", "crop", "drop-ovl")
        elif tok in ("allow-opts", "once", "no-df", "random-id"):
            pass
        elif tok in ("min-ttl", "max-mss"):
            number(ln)
        elif tok in ("rtable", "prio", "ridentifier"):
            number(ln)
        elif tok == "queue":
            string(ln)
        else:
            raise Reject("unknown or misplaced keyword '%s'" % tok)


def log(ln):
    if ln.accept("log"):
        if ln.accept("("):
            while True:
                tok = ln.next("a log option")
                if tok == "to":
                    interface(ln)
                elif tok not in ("all", "matches", "user"):
                    raise Reject("unknown log option '%s'" % tok)
                if ln.accept(")"):
                    break
                ln.expect(",")


def pf_rule(ln):
    """action [ in | out ] [ log ] [ quick ] [ on ifspec ] [ af ] [ protospec ] [ hosts ] [ filteropts ]"""
    action = ln.next()
    if action == "block":
        tok = ln.accept("drop", "return", "return-rst", "return-icmp", "return-icmp6")
        if tok and tok.startswith("return-") and ln.peek() == "(":
            while ln.next("')'") != ")":
                pass
    ln.accept("in", "out")
    log(ln)
    ln.accept("quick")
    if ln.accept("on"):
        ifspec(ln)
    ln.accept("inet", "inet6")
    protospec(ln)
    hosts(ln, required=False)
    filteropts(ln)


def trans_rule(ln):
    """FreeBSD: [ "no" ] ( "nat" | "rdr" ) [ "pass" [ log ] ] [ on ifspec ] [ af ] [ protospec ] hosts [ tag ] [ tagged ] [ "->" ... ]"""
    if ln.openbsd:
        raise Reject("'%s' rules are FreeBSD's (OpenBSD removed them in 4.7: match ... nat-to/rdr-to)"
                     % ln.peek())
    no = ln.accept("no")
    kind = ln.next()
    if ln.accept("pass"):
        log(ln)
    if ln.accept("on"):
        ifspec(ln)
    ln.accept("inet", "inet6")
    protospec(ln)
    hosts(ln, required=True)
    if ln.accept("tag"):
        string(ln)
    if ln.accept("tagged"):
        string(ln)
    if ln.accept("->"):
        if no:
            raise Reject("a 'no %s' rule has no '->'" % kind)
        redirhost(ln)
        portspec(ln)
        ln.accept("bitmask", "random", "round-robin", "source-hash")
        ln.accept("sticky-address")
        if kind == "nat":
            ln.accept("static-port")
    elif not no:
        raise Reject("a %s rule needs '-> ADDRESS'" % kind)
    if not ln.done():
        raise Reject("unexpected '%s' at the end of a %s rule" % (ln.peek(), kind))


def anchor_rule(ln):
    """ "anchor" [ string ] [ in | out ] [ on ifspec ] [ af ] [ protospec ] [ hosts ] [ filteropts ] [ "{" ]"""
    ln.expect("anchor")
    if ln.peek() not in (None, "in", "out", "on", "inet", "inet6", "proto", "all",
                         "from", "to", "{"):
        string(ln, "an anchor name")
    ln.accept("in", "out")
    if ln.accept("on"):
        ifspec(ln)
    ln.accept("inet", "inet6")
    protospec(ln)
    hosts(ln, required=False)
    filteropts(ln, anchor=True)
    return ln.accept("{") is not None


def table_rule(ln):
    ln.expect("table")
    ln.expect("<")
    name = string(ln, "a table name")
    if len(name) > 31:
        raise Reject("table name '%s' is longer than 31 bytes" % name)
    ln.expect(">")
    while not ln.done():
        tok = ln.next()
        if tok in ("persist", "const", "counters"):
            continue
        if tok == "file":
            string(ln)
            continue
        if tok != "{":
            raise Reject("unknown table option '%s'" % tok)
        n = 0
        while not ln.accept("}"):
            if n and ln.accept(","):
                pass
            ln.accept("!")
            address(ln)
            n += 1


# the statement order FreeBSD's pfctl enforces (set require-order yes)
ORDER = {"option": 0, "normalization": 1, "queueing": 2, "translation": 3, "filtering": 4}
ORDER_NAME = {v: k for k, v in ORDER.items()}


def statement(ln, depth):
    """Checks one statement; returns (its class for the order, opens a block)."""
    first = ln.peek()
    if first == "table":
        table_rule(ln)
        return None, False
    if first == "set":
        ln.next()
        ln.next("an option")
        while not ln.done():
            ln.next()
        return "option", False
    if first == "scrub" or (first == "no" and ln.peek(1) == "scrub"):
        if ln.openbsd:
            raise Reject("'scrub' rules are FreeBSD's: OpenBSD writes match ... scrub (...)")
        ln.accept("no")
        pf_rule(ln)
        return "normalization", False
    if first in ("pass", "block", "match"):
        pf_rule(ln)
        return "filtering", False
    if first in ("nat", "rdr") or (first == "no" and ln.peek(1) in ("nat", "rdr")):
        trans_rule(ln)
        return "translation", False
    if first in ("nat-anchor", "rdr-anchor", "binat-anchor"):
        if ln.openbsd:
            raise Reject("'%s' is FreeBSD's: OpenBSD evaluates translation in the anchor itself" % first)
        ln.next()
        string(ln, "an anchor name")
        if ln.accept("on"):
            ifspec(ln)
        if not ln.done():
            raise Reject("unexpected '%s'" % ln.peek())
        return "translation", False
    if first == "anchor":
        return "filtering", anchor_rule(ln)
    if first == "load":
        ln.next()
        ln.expect("anchor")
        string(ln, "an anchor name")
        ln.expect("from")
        string(ln, "a file name")
        return None, False
    if first == "include":
        ln.next()
        string(ln, "a file name")
        return None, False
    raise Reject("unknown keyword '%s'" % first)


def logical_lines(text):
    """(line number, text) of each statement: comments dropped, '\\' joined."""
    out, buf, start = [], "", None
    for no, raw in enumerate(text.split("\n"), 1):
        line = re.sub(r'"[^"\n]*"|#.*', lambda m: m.group(0) if m.group(0).startswith('"') else "", raw)
        if start is None:
            start = no
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf))
        buf, start = "", None
    if buf.strip():
        out.append((start, buf))
    return out


def check(path, dialect):
    errors = []
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return ["%s: error: cannot read: %s" % (path, e)]
    # per open block (the main ruleset, each inline anchor): the furthest
    # statement class seen, for FreeBSD's order
    stack = [(0, -1)]
    for no, line in logical_lines(text):
        tokens = TOKEN.findall(line)
        leftover = TOKEN.sub("", line).strip()
        if leftover:
            errors.append("%s:%d: error: cannot read '%s'" % (path, no, leftover))
            continue
        if tokens == ["}"]:
            if len(stack) == 1:
                errors.append("%s:%d: error: '}' closes no anchor" % (path, no))
            else:
                stack.pop()
            continue
        ln = Line(tokens, dialect)
        try:
            cls, opens = statement(ln, len(stack))
            if not ln.done() and not opens:
                raise Reject("unexpected '%s'" % ln.peek())
            if opens and not ln.done():
                raise Reject("unexpected '%s' after '{'" % ln.peek())
        except Reject as e:
            errors.append("%s:%d: error: %s" % (path, no, e))
            continue
        if cls is not None and dialect == "freebsd":
            line_no, furthest = stack[-1]
            rank = ORDER[cls]
            if rank < furthest:
                errors.append("%s:%d: error: %s rule after %s rules (FreeBSD's pfctl requires the order options, normalization, queueing, translation, filtering)"
                              % (path, no, cls, ORDER_NAME[furthest]))
            else:
                stack[-1] = (line_no, rank)
        if opens:
            stack.append((no, -1))
    if len(stack) > 1:
        errors.append("%s:%d: error: anchor '{' never closed" % (path, stack[-1][0]))
    return errors


def main(argv):
    args = argv[1:]
    dialect, expect_fail = None, False
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--dialect" and args:
            dialect = args.pop(0)
        elif opt == "--expect-fail":
            expect_fail = True
        else:
            dialect = None
            break
    if dialect not in ("openbsd", "freebsd") or not args:
        sys.stderr.write("usage: pfconf_check.py --dialect openbsd|freebsd [--expect-fail] FILE...\n")
        return 2
    status = 0
    for path in args:
        errors = check(path, dialect)
        if expect_fail:
            if not errors:
                print("%s: accepted, but it should be rejected (%s)" % (path, dialect))
                status = 1
        else:
            for e in errors:
                print(e)
            if errors:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
