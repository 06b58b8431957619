#!/usr/bin/env bash
# The two things a newcomer does on a fresh Debian machine:
#   ./dev.sh run    install what is missing, build, and run the server on its embedded defaults
#   ./dev.sh test   install what is missing and run every test (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build and the tests need.
DEBIAN_PACKAGES=(ca-certificates git gcc sip-tester baresip-core flite espeak-ng sox tshark lame python3 curl)

need_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		echo "dev.sh: need root to run: $*" >&2
		exit 1
	fi
}

install_packages() {
	local missing=()
	for p in "${DEBIAN_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "dev.sh: installing ${missing[*]}" >&2
		need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	if ! command -v go >/dev/null; then
		if [ -x /usr/local/go/bin/go ]; then
			export PATH="/usr/local/go/bin:$PATH"
		else
			echo "dev.sh: Go 1.26 or newer is needed (https://go.dev/dl/); it is not on PATH" >&2
			exit 1
		fi
	fi
}

case "${1:-}" in
run)
	shift
	install_packages
	mkdir -p bin
	go build -o bin/switchboard ./cmd/switchboard
	exec ./bin/switchboard serve "$@"
	;;
test)
	shift
	install_packages
	echo "== go vet, staticcheck"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	unformatted=$(gofmt -l cmd internal e2e)
	if [ -n "$unformatted" ]; then
		echo "gofmt would change: $unformatted" >&2
		exit 1
	fi
	echo "== fuzz (short runs; bench/ has the long ones)"
	# Budgets in executions (about 10 s each on an idle 2-core machine), not
	# in time: a time budget races Go's fuzzing coordinator at its deadline
	# and fails with a bare "context deadline exceeded" on a busy machine
	# (golang/go#75804); a count only takes longer there.
	go test -run '^$' -fuzz '^FuzzDecodeRequest$' -fuzztime 25000x ./internal/api/
	go test -run '^$' -fuzz '^FuzzPrepare$' -fuzztime 150000x ./internal/callflow/
	go test -run '^$' -fuzz '^FuzzCompileNode$' -fuzztime 250000x ./internal/callflow/
	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 60000x ./internal/twiml/
	go test -run '^$' -fuzz '^FuzzGuard$' -fuzztime 200000x ./internal/sip/
	echo "== benchmarks (one short pass; bench/ has the long runs)"
	go test -run '^$' -bench 'Route|Patterns|Parse' -benchtime 2000x ./internal/routing/ ./internal/twiml/
	go test -run '^$' -bench 'Load' -benchtime 3x ./internal/routing/ # 10,000 flows a run: 3 runs say enough
	go test -run 'TestPivot' -short -v ./bench/ | grep -E 'µs|ok|FAIL'
	go test -run '^$' -bench . -benchtime 2s ./bench/
	echo "== SIP load harness smoke (bench/sip/run.sh smoke: a tiny side-by-side run, under a minute)"
	bench/sip/run.sh smoke
	# ---- configurator (web/static): JSDoc type check and browser tests (e2e/browser) ----
	echo "== configurator: type check and browser tests"
	browser_missing=()
	[ -x /usr/bin/chromium ] || browser_missing+=(chromium)
	command -v node >/dev/null || browser_missing+=(nodejs)
	if [ ${#browser_missing[@]} -gt 0 ]; then
		echo "dev.sh: installing ${browser_missing[*]}" >&2
		need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser_missing[@]}" >/dev/null
	fi
	if ! command -v npm >/dev/null; then # Debian's nodejs comes without npm
		need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
	fi
	(cd e2e/browser && npm ci --no-audit --no-fund --loglevel=error)
	# The Twilio-style customer app of e2e/twilio_app_test.go (the twilio
	# package's validateRequest).
	(cd e2e/twilio-app && npm ci --no-audit --no-fund --loglevel=error)
	(cd e2e/browser && npx tsc --noEmit -p . && npx tsc --noEmit -p tsconfig.tests.json)
	# One test file at a time (each starts its own server and browser); the
	# flag needs Node 20.10 or newer.
	node_test_flags=()
	if node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=10)?0:1)'; then
		node_test_flags+=(--test-concurrency=1)
	fi
	node --test "${node_test_flags[@]}" e2e/browser/
	# ---- end of the configurator block ----
	echo "== tests"
	# -v into a log, so that skipped tests can be summed up at the end;
	# the whole log is shown when something fails.
	log=$(mktemp)
	status=0
	go test -race -count=1 -v ./... >"$log" 2>&1 || status=$?
	grep -E '^(ok|FAIL|\?)[[:space:]]' "$log" || true
	if [ "$status" -ne 0 ]; then
		cat "$log"
	fi
	echo "== skipped tests"
	grep -E '^!!! SKIPPED' "$log" | sort -u || true
	skips=$(grep -cE '^[[:space:]]*--- SKIP' "$log" || true)
	if [ "$skips" -gt 0 ]; then
		# go test -v prints a skipped test's reason just before its
		# "--- SKIP" line: pair each SKIP with the line above it.
		awk '/^[[:space:]]*--- SKIP/ {sub(/^[[:space:]]*/, ""); r = prev; sub(/^[[:space:]]*/, "", r); print $0 "\t" r} {prev = $0}' "$log" | sort | uniq -c | sort -rn
	fi
	echo "$skips tests skipped"
	if [ "$status" -ne 0 ]; then
		# The whole log is long: repeat what failed last, where a reader
		# of the tail of CI's output sees it.
		echo "== failed tests"
		grep -nE -B2 -A12 '^[[:space:]]*--- FAIL|^panic:|^FAIL[[:space:]]|test timed out|DATA RACE' "$log" | tail -c 20000 || true
	fi
	rm -f "$log"
	[ "$status" -eq 0 ] || exit "$status"
	echo "== soak (2 minutes)"
	SOAK_DURATION=2m ./bench/soak/run.sh
	;;
*)
	echo "usage: ./dev.sh run [serve flags…] | ./dev.sh test" >&2
	exit 2
	;;
esac
