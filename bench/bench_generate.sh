#!/bin/sh
# SPDX-License-Identifier: MIT
# portcullis generate against Capirca's aclgen, side by side in one run, on
# the same N-rule policy (default 2000; see gen_generate_policies.py) for
# every backend: nft, iptables, ip6tables and pf, against Capirca's
# nftables, iptables (inet and inet6) and packetfilter targets.
#
# portcullis is timed as one `generate` with four -b/-o pairs (like aclgen,
# which renders all targets of a policy in one run), with and without lint
# (aclgen checks no shadowing unless --shade_check), and as four separate
# runs; each the median of RUNS runs (default 5). aclgen: median of
# ACLGEN_RUNS runs (default 1). All output goes to a temporary directory.
# Peak memory (maximum resident set size, /usr/bin/time -v) of one run of
# each tool is printed after the times.
#
# SHAPE (default `bench`) chooses the policy: `bench` is today's shape
# (gen_generate_policies.py), `capirca` the Capirca-shaped policy of N
# terms of gen_shapes.py (seed SEED, default 1), with its Capirca twin.
#
# usage: bench_generate.sh PORTCULLIS [N] [SHAPE]
set -u
case $1 in
/*) prog=$1 ;;
*) prog=$(pwd)/$1 ;;
esac
n=${2:-2000}
shape=${3:-bench}
seed=${SEED:-1}
runs=${RUNS:-5}
aclgen_runs=${ACLGEN_RUNS:-1}
here=$(cd "$(dirname "$0")" && pwd)
registry=$here/../data/service-names-port-numbers.csv
command -v aclgen >/dev/null || { echo "SKIP: aclgen (Debian python3-capirca) not installed" >&2; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

case $shape in
bench)
	/usr/bin/python3 "$here/gen_generate_policies.py" "$n" "$tmp" "$registry" || exit 99
	policy=bench.policy pol=bench.pol ;;
capirca)
	/usr/bin/python3 "$here/gen_shapes.py" capirca --terms "$n" --seed "$seed" "$tmp" || exit 99
	policy=capirca.policy pol=capirca.pol ;;
*)
	echo "usage: bench_generate.sh PORTCULLIS [N] [bench|capirca]" >&2
	exit 2 ;;
esac

# "WALL CPU" seconds of one command (CPU: user + system of it and its
# children), the medians over COUNT runs; timed in Python for microseconds
timed() {
	count=$1
	shift
	/usr/bin/python3 - "$count" "$@" <<'EOP' || touch "$tmp/failed"
import resource, statistics, subprocess, sys, time
count, cmd = int(sys.argv[1]), sys.argv[2:]
walls, cpus = [], []
for _ in range(count):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.stderr.write('FAIL: %s\n%s' % (' '.join(cmd), p.stderr.decode()))
        sys.exit(1)
    walls.append(t1 - t0)
    cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print('%.6f %.6f' % (statistics.median(walls), statistics.median(cpus)))
EOP
}

cd "$tmp" || exit 99
# the measured commands, as scripts (/usr/bin/time runs programs)
cat >all4.sh <<EOS
exec "$prog" generate "\$@" -b nft -o out.nft -b iptables -o out.v4 \\
	-b ip6tables -o out.v6 -b pf -o out.pf $policy
EOS
cat >separate.sh <<EOS
for b in nft iptables ip6tables pf; do
	"$prog" generate -b "\$b" $policy >"out.sep.\$b" || exit 1
done
EOS
cat >capirca.sh <<EOS
rm -rf capirca/out
cd capirca && exec aclgen --base_directory=policies --definitions_directory=def \
	--output_directory=out --policy_file=policies/pol/$pol
EOS

p_all=$(timed "$runs" sh all4.sh)
[ -e "$tmp/failed" ] && exit 1
p_nolint=$(timed "$runs" sh all4.sh --no-lint)
p_sep=$(timed "$runs" sh separate.sh)
c_all=$(timed "$aclgen_runs" sh capirca.sh)
[ -e "$tmp/failed" ] && exit 1
lines_p=$(cat out.nft out.v4 out.v6 out.pf | wc -l)
lines_c=$(cat capirca/out/* | wc -l)

# peak memory (KB) of one run
peak() {
	/usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p' | tail -n 1
}
m_p=$(peak sh all4.sh)
m_c=$(peak sh capirca.sh)

echo "shape: $shape (seed $seed); rules: $n; output lines: portcullis $lines_p, aclgen $lines_c; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$c_all" "$p_all" "$p_nolint" "$p_sep" | awk '{
	cw = $1; cc = $2
	printf "%-46s %9s %9s %9s %9s\n", "", "wall s", "cpu s", "x wall", "x cpu"
	printf "%-46s %9.3f %9.3f\n", "aclgen (4 targets, one run)", cw, cc
	printf "%-46s %9.3f %9.3f %9.0f %9.0f\n", "portcullis generate, 4 backends, one run", $3, $4, cw / $3, cc / ($4 > 0 ? $4 : 0.001)
	printf "%-46s %9.3f %9.3f %9.0f %9.0f\n", "  same with --no-lint", $5, $6, cw / $5, cc / ($6 > 0 ? $6 : 0.001)
	printf "%-46s %9.3f %9.3f %9.0f %9.0f\n", "portcullis generate, 4 separate runs", $7, $8, cw / $7, cc / ($8 > 0 ? $8 : 0.001)
}'
printf '%-46s %9s KB\n' "peak memory: aclgen" "$m_c" "peak memory: portcullis, 4 backends" "$m_p"
