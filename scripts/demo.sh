#!/usr/bin/env bash
# The example fleet end to end, on the embedded default store:
#   1. measure: run every fleet scenario in a sealed sandbox (network
#      namespace + cgroup + eBPF), with the healthy "production" fleet in a
#      namespace of its own as the upstream;
#   2. ingest the run records as a release;
#   3. answer: bootstrap cycles, recovery order, why web needs coord;
#   4. check the measured graph against testdata/fleet/ground-truth.yaml.
# Without root or eBPF it says why and replays the runs recorded in
# testdata/fleet/records/ instead. Set MINIMIZE=1 to also minimize every
# scenario's allowlist (hard/soft classification, many more runs).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
FLEET=testdata/fleet
RELEASE=${RELEASE:-fleet-demo}
OUT=${OUT:-out/demo}
export PATH="$PWD/$BIN:$PATH"
if [ -t 2 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }; else step() { printf '\n== %s\n' "$*" >&2; }; fi

go build -tags nographviz -o "$BIN/" ./cmd/rgraph
go build -o "$BIN/" ./cmd/rgraph-graphviz
go build -o "$BIN/fleet" ./$FLEET

# fleet_down is the exit trap once the production fleet is up: a teardown
# that fails fails the demo, since what it left blocks the next one.
fleet_down() {
	status=$?
	if ! fleet prod down >&2; then
		echo "demo: taking the production fleet down failed (above); fleet prod up or down retries the cleanup" >&2
		[ "$status" != 0 ] || status=1
	fi
	exit "$status"
}

records=$FLEET/records
if why=$(rgraph sandbox check 2>&1 >/dev/null); then
	step "measuring: the production fleet comes up in its own network namespace"
	# One production fleet can be up per machine; someone else's is not ours
	# to take down. (fleet prod up itself cleans what a crashed one left.)
	if up=$(fleet prod status 2>/dev/null); then
		echo "demo: another production fleet is $up; the demo does not take it down." >&2
		echo "demo: wait for it to finish, or take it down if it is yours: sudo $BIN/fleet prod down" >&2
		exit 1
	fi
	rm -rf "$OUT" && mkdir -p "$OUT/records"
	# The fleet is up for this script: killed, it leaves a fleet the next
	# fleet prod command takes down.
	fleet prod up --owner $$ >&2
	trap fleet_down EXIT
	for scenario in $FLEET/scenarios/*.yaml; do
		name=$(basename "$scenario" .yaml)
		step "rgraph run $scenario"
		status=0
		rgraph run --release "$RELEASE" --record "$OUT/records/$name.json" "$scenario" || status=$?
		if [ "$status" != 0 ]; then
			echo "demo: scenario $name did not recover (exit $status)" >&2
			exit "$status"
		fi
		if [ "${MINIMIZE:-0}" = 1 ]; then
			step "rgraph minimize $scenario"
			rgraph minimize --release "$RELEASE" --record "$OUT/records/$name.min.json" "$scenario"
		fi
	done
	records=$OUT/records
else
	step "cannot run sandboxes here: ${why#rgraph: }"
	echo "demo: replaying the runs recorded in $records/ instead" >&2
fi

step "rgraph ingest --release $RELEASE (store: ${RGRAPH_STORE:-default})"
rgraph ingest --replace --release "$RELEASE" --catalog $FLEET/catalog.yaml "$records"

step "rgraph cycles"
rgraph cycles --release "$RELEASE"
step "rgraph order"
rgraph order --release "$RELEASE"
step "rgraph why web coord"
rgraph why --release "$RELEASE" web coord

step "checking against $FLEET/ground-truth.yaml"
# Run records prove what recovery was allowed and needed (declared) and what
# it did without (soft); minimization records say hard. Both count as hard.
if diff <(fleet truth $FLEET/ground-truth.yaml) \
	<(rgraph export --release "$RELEASE" | sed 's/\tdeclared$/\thard/' | sort -u); then
	echo "demo: the measured recovery graph matches the ground truth exactly" >&2
	if [ "$records" = "$FLEET/records" ]; then
		echo "demo: these were recorded runs, replayed; run \`sudo make demo\` to measure on this machine" >&2
	fi
else
	echo "demo: the measured recovery graph differs from the ground truth (above)" >&2
	exit 1
fi
