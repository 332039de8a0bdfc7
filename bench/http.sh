#!/usr/bin/env bash
# HTTP baseline: GET /health (no database) and GET /ready (one database round trip) at 64
# concurrent connections with wrk, on SQLite and PostgreSQL; then cold start and idle RSS.
# Usage: bench/http.sh [DURATION_SECONDS]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/meridian/target}"
duration="${1:-15}"
pg_admin="${MERIDIAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

cargo build --release --bin meridian >&2
bin="$CARGO_TARGET_DIR/release/meridian"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; psql "$pg_admin" -qc "DROP DATABASE IF EXISTS meridian_bench WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS meridian_bench WITH (FORCE)" >/dev/null
psql "$pg_admin" -qc "CREATE DATABASE meridian_bench" >/dev/null
pg_url="${pg_admin%/*}/meridian_bench"

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -m), meridian $("$bin" --version | cut -d' ' -f2), wrk -t2 -c64 -d${duration}s"
for db in sqlite postgres; do
  if [ "$db" = sqlite ]; then url="sqlite://$work/bench.db"; else url="$pg_url"; fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  DATABASE_URL="$url" MERIDIAN_LOG=warn "$bin" serve --addr "127.0.0.1:$port" 2>"$work/$db.log" &
  server=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
  for path in /health /ready; do
    wrk -t2 -c64 -d2s "http://127.0.0.1:$port$path" >/dev/null   # warm-up
    out=$(wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)
    echo "$db GET $path: ${rps} req/s, p50 ${p50}, p99 ${p99} ${errors}"
  done
  kill -TERM $server; wait $server || true
  python3 bench/coldstart.py "$bin" "$url" 10 | sed "s/^/$db /"
done
