#!/usr/bin/env bash
# One A/B sample of the drain (docs/benchmarks.md): fills a fresh RabbitMQ virtual host with ORDERS
# purchases through a Release intake (no worker running), stops the intake, starts one Release
# worker without a rate limit and follows campaigns.sold from the first order until 95 % are written;
# prints orders/s and the CPU each process spent per order over that span. Extra arguments are
# environment settings for the worker only, e.g. Seckill__Worker__BatchSize=400.
#
#   bash infra/bench/drain-cost.sh ORDERS [NAME=VALUE...]
#
# Expects the services up and Release builds of the intake and the worker.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
. "$root/infra/bench/cost-lib.sh"
orders=${1:?ORDERS}; shift
[[ $orders =~ ^[1-9][0-9]*$ ]] || { echo "ORDERS must be a positive whole number" >&2; exit 2; }

# shellcheck disable=SC2119 # the intake runs with its defaults here
start_intake
id=$(create_campaign "$orders")
url=$intake_url/api/campaigns/$id/purchases
# wrk runs for a fixed time: long enough to sell every unit at ~1,500/s, the rest are 410s.
"${pin[@]}" wrk -t1 -c64 -d"$(( orders / 1500 + 5 ))s" --timeout 5s -s "$root/infra/bench/purchase.lua" "$url" -- mode=distinct "prefix=f$run" >/dev/null
stop_intake
queued=$(bash "$root/infra/services.sh" rabbitmqctl list_queues -q -p "$vhost" name messages | awk '$1 == "seckill-orders" { print $2 }')
printf 'queued %s\n' "$queued"
sold() { psql -X -q -tA -c "SELECT sold FROM campaigns WHERE id = '$id'"; }
start_worker Seckill__Worker__MaxOrdersPerSecond=0 'Seckill__Sweeper__PendingTimeout=1.00:00:00' "$@"
until (( $(sold) > 0 )); do pid_alive "$worker_pid" || { echo "the worker died; log: $work/worker.log" >&2; exit 1; }; sleep 0.1; done
before=$(cpu_snapshot "$worker_pid"); t0=$(date +%s.%N); sold0=$(sold)
while (( $(sold) < queued * 95 / 100 )); do pid_alive "$worker_pid" || { echo "the worker died; log: $work/worker.log" >&2; exit 1; }; sleep 0.2; done
after=$(cpu_snapshot "$worker_pid"); t1=$(date +%s.%N); sold1=$(sold)
(( sold1 > sold0 )) || { echo "the worker wrote them all before the first sample; queue more orders" >&2; exit 1; }
awk -v n=$(( sold1 - sold0 )) -v a="$t0" -v b="$t1" 'BEGIN { printf "orders/s %.0f\n", n / (b - a) }'
print_costs "$before" "$after" $(( sold1 - sold0 )) "worker"
awk '/^VmHWM:/ { printf "worker peak RSS %.0f MiB\n", $2 / 1024 }' "/proc/$worker_pid/status"
