#!/usr/bin/env bash
# README's test command: every test project against the real PostgreSQL, RabbitMQ and Redis,
# starting them first if they are down, with Prometheus and its exporters (the Prometheus test
# reads the real server's query API). Last line: "N passed, N failed".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The dashboard's browser test drives Debian's chromium; Playwright's own browser download is never used.
if [ ! -x /usr/bin/chromium ]; then
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

bash infra/services.sh up
env_file=$(bash infra/services.sh env)
# The tests find .local/seckill.env themselves; exporting it also covers a SECKILL_LOCAL_DIR elsewhere.
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test --solution Seckill.Pipeline.sln "$@" 2>&1 | tee "$log" || status=$?

# One summary for the whole solution: "total: N / failed: N / succeeded: N / skipped: N".
passed=$(grep -E '^\s*succeeded: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
failed=$(grep -E '^\s*failed: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
skipped=$(grep -E '^\s*skipped: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
if [ -z "$passed" ]; then
  echo "No test summary: the build or the test host failed (see above)."
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
  failed=1
fi
if [ "${skipped:-0}" -gt 0 ]; then
  echo "${passed} passed, ${failed:-0} failed, ${skipped} skipped"
else
  echo "${passed} passed, ${failed:-0} failed"
fi
exit "$status"
