#!/usr/bin/env bash
# One A/B sample of the gateway's own cost (docs/benchmarks.md): a fresh Release intake, a fresh
# Release gateway in front of it, and the sold-out path through both (the intake answers it from
# memory, so what is left is the gateway: token check, limiter, proxy hop), or with --accept the accept
# path (a new buyer per request: tokens for 6,000 purchases/s are minted first). WARM seconds of load,
# then MEASURE seconds measured with wrk (-t1 -c64, pinned like bench.sh); prints requests/s and the
# CPU µs per request of the gateway, the intake and the machine. Extra arguments are environment
# settings for the gateway only, e.g. Logging__LogLevel__Default=Warning. Run it alternately with and
# without a setting, several times: this host's noise is ±15 % run to run.
#
#   bash infra/bench/gateway-cost.sh [--accept] WARM MEASURE [NAME=VALUE...]
#
# Expects the services up, Release builds of the intake, the gateway and the load generator (which
# mints the 20,000 tokens the requests cycle through; the gateway's per-buyer limit is raised for them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
. "$root/infra/bench/cost-lib.sh"
accept=0
[[ ${1:-} != --accept ]] || { accept=1; shift; }
warm=${1:?WARM seconds}; measure=${2:?MEASURE seconds}; shift 2

start_intake
mint() { # FILE COUNT
  dotnet "$root/tests/Seckill.LoadTest/bin/Release/net10.0/Seckill.LoadTest.dll" tokens --count "$2" --prefix "$(basename "$1")$run-" \
    --out "$1" 2>>"$work/mint.txt"
}
if (( accept )); then
  id=$(create_campaign 10000000)
  # Distinct buyers for each run of wrk: a token used twice would be a buyer who already bought.
  mint "$work/warm-tokens" $(( warm * 6000 )); mint "$work/tokens" $(( measure * 6000 ))
  warm_tokens=$work/warm-tokens
else
  id=$(create_campaign 1)
  [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$intake_url/api/campaigns/$id/purchases" -H "X-User-Id: first-$run") == 202 ]] \
    || { echo "could not buy the campaign's only unit" >&2; exit 1; }
  mint "$work/tokens" 20000
  warm_tokens=$work/tokens
fi

port=$(( ${intake_url##*:} + 1 ))
while port_open "$port"; do port=$((port + 1)); done
gateway_url=http://127.0.0.1:$port
( cd "$root/services/Seckill.Gateway/bin/Release/net10.0" && exec env ASPNETCORE_ENVIRONMENT=Production "ASPNETCORE_URLS=$gateway_url" \
    "Seckill__Gateway__Intakes__0=$intake_url" Seckill__Gateway__PurchasesPerSecond=100000 Seckill__Gateway__PurchaseBurst=100000 \
    "$@" dotnet Seckill.Gateway.dll ) >"$work/gateway.log" 2>&1 &
gateway_pid=$!
until curl -sf "$gateway_url/health/ready" >/dev/null; do
  pid_alive "$gateway_pid" || { echo "the gateway did not start; log: $work/gateway.log" >&2; exit 1; }
  sleep 0.3
done

url=$gateway_url/api/campaigns/$id/purchases
"${pin[@]}" wrk -t1 -c64 -d"${warm}s" --timeout 5s -s "$root/infra/bench/purchase.lua" "$url" -- "tokens=$warm_tokens" >/dev/null
intake_before=$(cpu_ticks "$intake_pid")
before=$(cpu_snapshot "$gateway_pid")
"${pin[@]}" wrk -t1 -c64 -d"${measure}s" --timeout 5s --latency -s "$root/infra/bench/purchase.lua" "$url" -- "tokens=$work/tokens" >"$work/wrk.txt"
after=$(cpu_snapshot "$gateway_pid")
intake_after=$(cpu_ticks "$intake_pid")
requests=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$work/wrk.txt")
sed -n 's/^BENCH //p' "$work/wrk.txt"
printf 'requests/s %s\n' $(( requests / measure ))
print_costs "$before" "$after" "$requests" "gateway"
awk -v a="$intake_before" -v b="$intake_after" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "µs per unit: intake behind it %.0f\n", (b - a) / hz * 1e6 / n }'
