#!/usr/bin/env bash
# Measures how long POST /oauth2/auth takes to reject a wrong password, an
# unknown member and a disabled member (with the right password), and writes
# the median, minimum and maximum of each as a Markdown table.
#
# Usage: scripts/bench-signin-failures.sh [TRIES] [OUTPUT]
#   TRIES   requests per kind of failure, 1 to 500 (default 30)
#   OUTPUT  file for the table (default bench-signin-failures.md)
#   PORTAL_BINARY  a built hktia-portal to measure instead of the debug
#                  build, which this script builds with cargo
#
# The server runs on 127.0.0.1 over a temporary SQLite file and is stopped
# at the end. The kinds of failure take turns within each round, so that a
# change of load on the machine affects all three alike. The sign-in pause
# stays on with a limit no run reaches, so each attempt still pays for its
# reservation; the rate limit is off. This is a benchmark, not a test: it
# reports numbers and judges nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

tries=${1:-30}
output=${2:-bench-signin-failures.md}
if ! [[ "$tries" =~ ^[0-9]+$ ]] || (( tries < 1 || tries > 500 )); then
    echo "error: TRIES must be a whole number from 1 to 500, got \"$tries\"" >&2
    exit 2
fi
for tool in curl awk sort; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 2; }
done

binary=${PORTAL_BINARY:-}
if [[ -z "$binary" ]]; then
    cargo build --quiet
    binary=target/debug/hktia-portal
fi

workdir=$(mktemp -d)
server_pid=""
stop() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap stop EXIT

export PORTAL_DATABASE_URL="sqlite://$workdir/bench.db"
export PORTAL_LOGIN_MAX_FAILURES=1000000
export PORTAL_SIGNIN_RATE=0
export PORTAL_RATE_LIMIT=0
password="bench password $RANDOM$RANDOM"

"$binary" migrate >/dev/null
printf '%s\n' "$password" | "$binary" user add bench-member --password-stdin >/dev/null
printf '%s\n' "$password" | "$binary" user add bench-disabled --password-stdin >/dev/null
RUST_LOG=error "$binary" user disable bench-disabled >/dev/null
"$binary" client add bench-web --kind web >/dev/null

RUST_LOG=info PORTAL_LOG_FORMAT=json "$binary" serve --listen 127.0.0.1:0 2>"$workdir/server.log" &
server_pid=$!
address=""
for _ in $(seq 1 100); do
    address=$(grep -o '"address":"127\.0\.0\.1:[0-9]*"' "$workdir/server.log" |
        head -n 1 | cut -d'"' -f4 || true)
    [[ -n "$address" ]] && break
    sleep 0.1
done
if [[ -z "$address" ]]; then
    echo "error: the server did not start; its log:" >&2
    cat "$workdir/server.log" >&2
    exit 1
fi

# Prints the status and the time in milliseconds of one sign-in.
attempt() {
    local body
    body=$(printf '{"response_type":"code","access_type":"online","client_id":"bench-web","grant_type":"password","username":"%s","password":"%s"}' "$1" "$2")
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' \
        -H 'Content-Type: application/json' -d "$body" "http://$address/oauth2/auth" |
        awk '{ printf "%s %.3f\n", $1, $2 * 1000 }'
}

kinds=("wrong password" "unknown member" "disabled member")
usernames=("bench-member" "bench-nobody" "bench-disabled")
passwords=("not the password" "$password" "$password")

# One unmeasured round: the first unknown member also makes the dummy hash.
for i in 0 1 2; do attempt "${usernames[$i]}" "${passwords[$i]}" >/dev/null; done

for _ in $(seq 1 "$tries"); do
    for i in 0 1 2; do
        read -r status millis < <(attempt "${usernames[$i]}" "${passwords[$i]}")
        if [[ "$status" != 400 ]]; then
            echo "error: ${kinds[$i]} returned $status, expected 400" >&2
            exit 1
        fi
        echo "$millis" >>"$workdir/$i.ms"
    done
done

# Prints "median min max" of the numbers in a file, one per line.
summary() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

{
    echo "| failure | median ms | min ms | max ms |"
    echo "| --- | ---: | ---: | ---: |"
    for i in 0 1 2; do
        read -r median min max < <(summary "$workdir/$i.ms")
        echo "| ${kinds[$i]} | $median | $min | $max |"
    done
    echo
    echo "$tries tries of each, $(date -u +%Y-%m-%dT%H:%M:%SZ), binary $binary,"
    echo "$(nproc) cores: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)."
} >"$output"
cat "$output"
