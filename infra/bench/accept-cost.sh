#!/usr/bin/env bash
# One A/B sample of the accept path (docs/benchmarks.md): a fresh Release intake in its own RabbitMQ
# virtual host, WARM seconds of load, then MEASURE seconds measured with wrk (-t1 -c64, pinned like
# bench.sh), and the CPU each process spent per purchase. Extra arguments are environment settings
# for the intake only, e.g. DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1. Run it alternately with
# and without a setting, several times: this host's noise is ±15 % run to run.
#
#   bash infra/bench/accept-cost.sh WARM MEASURE [NAME=VALUE...]
#
# Expects the services up (bash infra/services.sh up) and a Release build of the intake
# (dotnet build -c Release services/Seckill.Intake); prints one line per result.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
. "$root/infra/bench/cost-lib.sh"
warm=${1:?WARM seconds}; measure=${2:?MEASURE seconds}; shift 2

start_intake "$@"
id=$(create_campaign 10000000)
url=$intake_url/api/campaigns/$id/purchases
"${pin[@]}" wrk -t1 -c64 -d"${warm}s" --timeout 5s -s "$root/infra/bench/purchase.lua" "$url" -- mode=distinct "prefix=w$run" >/dev/null
before=$(cpu_snapshot "$intake_pid")
"${pin[@]}" wrk -t1 -c64 -d"${measure}s" --timeout 5s --latency -s "$root/infra/bench/purchase.lua" "$url" -- mode=distinct "prefix=m$run" >"$work/wrk.txt"
after=$(cpu_snapshot "$intake_pid")
requests=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$work/wrk.txt")
sed -n 's/^BENCH //p' "$work/wrk.txt"
printf 'purchases/s %s\n' $(( requests / measure ))
print_costs "$before" "$after" "$requests" "intake"
