#!/usr/bin/env bash
# Regenerates bench/RESULTS.md and bench/chart.svg (and the raw figures in
# bench/results/): the per-request comparison with the peers (BenchmarkAuth,
# interleaved runs at -cpu 1, summarised by benchstat), the JWKS storm
# figures (cmd/storm) and the HTTP figure (cmd/load).
#
#   bench/run.sh                 # full run: COUNT=10 rounds of 1 s per case (~10 min on 2 cores)
#   QUICK=1 OUT=/tmp/b bench/run.sh   # smoke test of the script (~30 s)
#   REPORT_ONLY=1 bench/run.sh        # rewrite RESULTS.md and chart.svg from results/
#
# Settings (environment): COUNT (rounds, default 10), BENCHTIME (per case and
# round, default 1s), LOAD_CLIENTS (16), LOAD_DURATION (5s), LOAD_ROUNDS (2),
# STORM_N (10000), OUT (directory for RESULTS.md, chart.svg and results/;
# default: bench/). QUICK=1 sets COUNT=2 BENCHTIME=100ms LOAD_DURATION=1s
# LOAD_ROUNDS=1 unless they are set.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ "${QUICK:-}" == 1 ]]; then
	: "${COUNT:=2}" "${BENCHTIME:=100ms}" "${LOAD_DURATION:=1s}" "${LOAD_ROUNDS:=1}"
fi
COUNT="${COUNT:-10}"
BENCHTIME="${BENCHTIME:-1s}"
LOAD_CLIENTS="${LOAD_CLIENTS:-16}"
LOAD_DURATION="${LOAD_DURATION:-5s}"
LOAD_ROUNDS="${LOAD_ROUNDS:-2}"
STORM_N="${STORM_N:-10000}"
OUT="${OUT:-.}"
BENCHSTAT="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

if ((COUNT < 1)); then
	echo "run.sh: COUNT must be at least 1" >&2
	exit 2
fi
mkdir -p "$OUT/results"
res="$OUT/results"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

log() { printf '%s run.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }

report_only=0
[[ "${REPORT_ONLY:-}" == 1 ]] && report_only=1
log "building"
go build -o "$tmp/report" ./cmd/report
if ((report_only == 0)); then
	go test -c -o "$tmp/bench.test" .
	go build -o "$tmp/load" ./cmd/load
	go build -o "$tmp/storm" ./cmd/storm

	started="$(date -u '+%Y-%m-%d %H:%M UTC')"
	loads=("$(loadavg)")
	: >"$res/bench.txt"
	for ((i = 1; i <= COUNT; i++)); do
		log "benchmark round $i/$COUNT (load average $(loadavg))"
		# One process per round runs every case once: the cases are interleaved,
		# so a slower minute on a shared machine hits all of them alike.
		"$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkAuth$' -test.benchmem -test.cpu=1 \
			-test.count=1 -test.benchtime="$BENCHTIME" >>"$res/bench.txt"
		loads+=("$(loadavg)")
	done

	log "benchstat"
	go run "$BENCHSTAT" "$res/bench.txt" >"$res/benchstat.txt"

	log "JWKS storm"
	storm_rc=0
	"$tmp/storm" -n "$STORM_N" -json "$res/storm.json" >"$tmp/storm.md" || storm_rc=$?
	[[ $storm_rc == 0 ]] || log "storm: a target was missed (exit $storm_rc)"

	log "HTTP load"
	load_rc=0
	"$tmp/load" -c "$LOAD_CLIENTS" -d "$LOAD_DURATION" -rounds "$LOAD_ROUNDS" -json "$res/load.json" >"$tmp/load.md" || load_rc=$?
	[[ $load_rc == 0 ]] || log "load: failed or missed (exit $load_rc)"
	loads+=("$(loadavg)")

	lo="$(printf '%s\n' "${loads[@]}" | sort -g | head -1)"
	hi="$(printf '%s\n' "${loads[@]}" | sort -g | tail -1)"
	rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	if [[ -n "$(git status --porcelain -- .. 2>/dev/null | grep -v -e 'bench/RESULTS.md' -e 'bench/chart.svg' -e 'bench/results/' || true)" ]]; then
		rev="$rev (with uncommitted changes)"
	fi
	cat >"$tmp/machine.md" <<-MD
	- CPU: $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)
	- Cores: $(nproc) (\`nproc\`)
	- Go: $(go version | cut -d' ' -f3-)
	- Kernel: $(uname -sr)
	- Run: $started, commit $rev; COUNT=$COUNT rounds, -benchtime=$BENCHTIME per case and round, -cpu 1
	- Load: 1-minute load average between $lo and $hi while the script ran (sampled between rounds; the benchmark itself accounts for about 1). The machine is shared with other work, so figures are comparable within this run (the cases are interleaved), not across machines.
	MD
	cp "$tmp/load.md" "$res/load.md"
	cp "$tmp/storm.md" "$res/storm.md"
	cp "$tmp/machine.md" "$res/machine.md"
else
	for f in bench.txt benchstat.txt storm.json storm.md load.json load.md machine.md; do
		[[ -f "$res/$f" ]] || { echo "run.sh: REPORT_ONLY needs $res/$f from a full run" >&2; exit 2; }
	done
fi

log "report"
"$tmp/report" -bench "$res/bench.txt" -benchstat "$res/benchstat.txt" -machine "$res/machine.md" \
	-load "$res/load.md" -load-json "$res/load.json" -storm "$res/storm.md" -storm-json "$res/storm.json" \
	-out "$OUT/RESULTS.md" -svg "$OUT/chart.svg" -command "bench/run.sh"
log "wrote $OUT/RESULTS.md and $OUT/chart.svg"
