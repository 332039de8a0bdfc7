#!/usr/bin/env bash
# Cost of authentication + permission check + tenancy scoping: GET /api/v1/auth/check (a
# trivial authenticated endpoint: bearer token verified, session/membership/role read,
# rate limit, context built) against GET /health, at 64 connections with wrk, on SQLite
# and PostgreSQL; plus one sign-in (Argon2id) timed on its own.
# Usage: bench/auth.sh [DURATION_SECONDS]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/meridian/target}"
duration="${1:-15}"
pg_admin="${MERIDIAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
cargo build --release --bin meridian >&2
bin="$CARGO_TARGET_DIR/release/meridian"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; psql "$pg_admin" -qc "DROP DATABASE IF EXISTS meridian_bench_auth WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$bin" keys generate > "$work/keys.toml"
export MERIDIAN_KEY_FILE="$work/keys.toml" MERIDIAN_LOG=warn MERIDIAN_RATE_LIMIT=100000000 MERIDIAN_RATE_LIMIT_BURST=100000000
export MERIDIAN_ADMIN_PASSWORD="bench password that is long"
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS meridian_bench_auth WITH (FORCE)" >/dev/null
psql "$pg_admin" -qc "CREATE DATABASE meridian_bench_auth" >/dev/null

run_wrk() { # url [header]
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${duration}s" --latency -H "$2" "$1"); else out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1"); fi
  local non2xx; non2xx=$(grep -E "Non-2xx" <<<"$out" | awk '{print $NF}' || true)
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out") ${non2xx:-0}"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, meridian $("$bin" --version | cut -d' ' -f2), wrk -t2 -c64 -d${duration}s, median of 3 alternating rounds, load average $(cut -d' ' -f1 /proc/loadavg)"
for db in sqlite postgres; do
  if [ "$db" = sqlite ]; then url="sqlite://$work/bench.db"; else url="${pg_admin%/*}/meridian_bench_auth"; fi
  "$bin" init --database-url "$url" --org-name "Bench $db" --admin-email admin@bench.test >/dev/null 2>&1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" serve --database-url "$url" --addr "127.0.0.1:$port" 2>"$work/$db.log" &
  server=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
  start=$(date +%s%N)
  token=$(curl -sf -H 'content-type: application/json' \
    -d "{\"email\":\"admin@bench.test\",\"password\":\"$MERIDIAN_ADMIN_PASSWORD\"}" \
    "http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  login_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  wrk -t2 -c64 -d2s "http://127.0.0.1:$port/health" >/dev/null
  wrk -t2 -c64 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/auth/check" >/dev/null
  # Alternate the two endpoints over several rounds and keep each one's median, so that
  # other load on the machine hits both sides alike.
  h_runs=(); a_runs=()
  for round in 1 2 3; do
    h_runs+=("$(run_wrk "http://127.0.0.1:$port/health")")
    a_runs+=("$(run_wrk "http://127.0.0.1:$port/api/v1/auth/check" "Authorization: Bearer $token")")
  done
  median() { printf '%s\n' "$@" | sort -n -k1,1 | sed -n 2p; }
  read -r h_rps h_p50 h_p99 h_bad <<<"$(median "${h_runs[@]}")"
  read -r a_rps a_p50 a_p99 a_bad <<<"$(median "${a_runs[@]}")"
  overhead=$(python3 -c "print(f'{(1 - $a_rps / $h_rps) * 100:.1f}')")
  echo "$db GET /health:              $h_rps req/s, p50 $h_p50, p99 $h_p99 (non-2xx: $h_bad)"
  echo "$db GET /api/v1/auth/check:   $a_rps req/s, p50 $a_p50, p99 $a_p99 (non-2xx: $a_bad)"
  echo "$db authentication overhead:  ${overhead}% fewer req/s; one sign-in (Argon2id, curl end to end): ${login_ms} ms"
  kill -TERM $server; wait $server || true; server=""
done
