#!/usr/bin/env bash
# README's main command: a whole simulated flash sale on the local default.
# Services up, schema migrated, intake and workers started, a campaign created with a 30 s payment
# window and a crowd of buyers sent at it by the load generator; the winners pay (a --pay-share of
# them, default 0.8) or let the deadline pass, and once the window has closed the buyers told
# sold-out come back for the units expiry released. Then the report, the chart and the URLs are
# printed and everything stays up for exploration until Ctrl-C, which stops what this script
# started (the services keep running: bash infra/services.sh stop).
#
#   bash infra/run.sh [--stock N] [--buyers N] [--shards M] [--workers K] [--worker-rate R]
#                     [--pay-share F] [--no-sale] [--detach]
#   bash infra/run.sh stop      stop an intake and workers left running by --detach (SIGTERM; a process
#                               still running after SECKILL_STOP_TIMEOUT seconds, default 45, is reported
#                               with its pid and the command exits 1)
#
# The intake and workers inherit this script's environment, so any Seckill__* setting given to it
# reaches them, e.g.  Seckill__Sweeper__PendingTimeout=00:00:10 bash infra/run.sh --workers 1 --worker-rate 40
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The worker rate defaults to one given in the environment, which the workers' own variable below would otherwise override.
stock=10000 buyers=100000 shards=4 workers=2 worker_rate=${Seckill__Worker__MaxOrdersPerSecond:-0} sale=1 detach=0 command=start
# Short, so expiry and resale happen within the demo: the run takes about the window plus ~5 s longer.
pay_share=0.8 payment_window=30
while [ $# -gt 0 ]; do
  case "$1" in
    --stock) stock=$2; shift 2 ;;
    --buyers) buyers=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --worker-rate) worker_rate=$2; shift 2 ;;
    --pay-share) pay_share=$2; shift 2 ;;
    --no-sale) sale=0; shift ;;
    --detach) detach=1; shift ;;
    stop) command=stop; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for value in "$stock" "$buyers" "$shards" "$workers" "$worker_rate"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "not a whole number: $value" >&2; exit 2; }
done
[[ $pay_share =~ ^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$ ]] || { echo "--pay-share must be a number from 0 to 1: $pay_share" >&2; exit 2; }

port=${SECKILL_INTAKE_PORT:-5080}
url="http://127.0.0.1:${port}"

bash infra/services.sh up >/dev/null
env_file=$(bash infra/services.sh env)
local_dir=$(dirname "$env_file")
run_dir="$local_dir/run"
log_dir="$local_dir/logs"
mkdir -p "$run_dir" "$log_dir"

# shellcheck source=lib/common.sh
. "$root/infra/lib/common.sh"   # pid_alive: a zombie or a reused-and-gone pid is not alive (kill -0 says it is)
alive() { [ -f "$1" ] && pid_alive "$(cat "$1")"; }

# The hosts finish in-flight batches on SIGTERM (up to 30 s); past this a process is reported, not waited for forever.
stop_timeout=${SECKILL_STOP_TIMEOUT:-45}
stop_all() {
  local pid_file name pid stuck=0
  for pid_file in "$run_dir"/*.pid; do
    [ -e "$pid_file" ] || continue
    name=$(basename "$pid_file" .pid)
    if alive "$pid_file"; then
      pid=$(cat "$pid_file")
      kill "$pid" 2>/dev/null || true
      if ! wait_pid_gone "$pid" "$stop_timeout"; then
        echo "$name (pid $pid) did not stop within ${stop_timeout}s of SIGTERM; it is still running (force it: kill -KILL $pid)" >&2
        stuck=1
        continue
      fi
      echo "$name: stopped"
    fi
    rm -f "$pid_file"
  done
  return "$stuck"
}

if [ "$command" = stop ]; then
  stop_all
  exit 0
fi

set -a
# shellcheck disable=SC1090
. "$env_file"
set +a

if alive "$run_dir/intake.pid"; then
  echo "An intake started by this script is still running; stop it first: bash infra/run.sh stop" >&2
  exit 1
fi

echo "building (Release)…"
for project in services/Seckill.Intake services/Seckill.Worker tests/Seckill.LoadTest; do
  dotnet build -c Release -v quiet -nologo "$project" >/dev/null
done
intake=services/Seckill.Intake/bin/Release/net10.0/Seckill.Intake.dll
worker=services/Seckill.Worker/bin/Release/net10.0/Seckill.Worker.dll

dotnet "$intake" migrate >>"$log_dir/intake.log" 2>&1
echo "schema: up to date"

if [ "$detach" = 0 ]; then
  trap 'echo; stop_all; exit 0' INT TERM
fi

# --contentRoot: appsettings.json sits beside the program, not in the working directory.
ASPNETCORE_ENVIRONMENT=Production nohup dotnet "$intake" --urls "$url" --contentRoot "$root/$(dirname "$intake")" >"$log_dir/intake.log" 2>&1 &
echo $! >"$run_dir/intake.pid"
# Worker k serves /metrics and /health on 5090+k (SECKILL_WORKER_BASE_PORT), and Prometheus finds
# the workers through the file_sd list written here (infra/services.sh configures it to read that).
worker_base_port=${SECKILL_WORKER_BASE_PORT:-5090}
worker_targets=()
for i in $(seq 1 "$workers"); do
  Seckill__Worker__MaxOrdersPerSecond=$worker_rate Seckill__Worker__HttpPort=$((worker_base_port + i)) DOTNET_ENVIRONMENT=Production \
    nohup dotnet "$worker" >"$log_dir/worker-$i.log" 2>&1 &
  echo $! >"$run_dir/worker-$i.pid"
  worker_targets+=("\"127.0.0.1:$((worker_base_port + i))\"")
done
if [ -n "${SECKILL_PROMETHEUS_TARGETS:-}" ]; then
  mkdir -p "$SECKILL_PROMETHEUS_TARGETS"
  # Written whole and renamed: Prometheus may read the file at any moment.
  printf '[{"targets": [%s], "labels": {"service": "worker"}}]\n' "$(IFS=,; echo "${worker_targets[*]}")" \
    >"$SECKILL_PROMETHEUS_TARGETS/worker.json.tmp"
  mv -f "$SECKILL_PROMETHEUS_TARGETS/worker.json.tmp" "$SECKILL_PROMETHEUS_TARGETS/worker.json"
fi

for _ in $(seq 1 120); do
  curl -fsS "$url/health" >/dev/null 2>&1 && break
  alive "$run_dir/intake.pid" || { echo "intake failed to start:"; tail -n 30 "$log_dir/intake.log"; stop_all; exit 1; }
  sleep 0.5
done
curl -fsS "$url/health" >/dev/null || { echo "intake did not answer at $url/health"; stop_all; exit 1; }
for i in $(seq 1 "$workers"); do
  alive "$run_dir/worker-$i.pid" || { echo "worker $i failed to start:"; tail -n 30 "$log_dir/worker-$i.log"; stop_all; exit 1; }
done
echo "intake: $url   workers: $workers (rate per process: ${worker_rate:-0}/s, 0 = unlimited)"

# Printed before the sale, so the dashboard, Prometheus and the RabbitMQ UI can be opened while it moves.
where_to_look() {
  cat <<EOT

Intake:               $url   (OpenAPI: $url/openapi/v1.json, live dashboard: $url/dashboard)
RabbitMQ management:  http://127.0.0.1:${Seckill__RabbitMq__ManagementPort}   (user ${Seckill__RabbitMq__Username}, password in $env_file)
Prometheus:           ${SECKILL_PROMETHEUS_URL:-http://127.0.0.1:9090}/classic/graph   (queries: README "What to watch")
Health:               bash infra/services.sh status   (each server, exporter, the intake's and workers' /health/ready)
Logs:                 $log_dir/
Admin key:            Seckill__AdminKey in $env_file
Try:  curl -s $url/api/campaigns -H "X-Admin-Key: \$Seckill__AdminKey"   (after: set -a; . $env_file; set +a)
EOT
}

where_to_look
if [ "$sale" = 1 ]; then
  echo
  echo "The sale starts now; watch it on the dashboard (admin key: Seckill__AdminKey in $env_file), in Prometheus and in the RabbitMQ UI."
  dotnet tests/Seckill.LoadTest/bin/Release/net10.0/Seckill.LoadTest.dll \
    --intake "$url" --env-file "$env_file" --stock "$stock" --shards "$shards" --buyers "$buyers" \
    --payment-window "$payment_window" --pay-share "$pay_share" || true
  where_to_look
fi

if [ "$detach" = 1 ]; then
  echo "Left running; stop with: bash infra/run.sh stop"
  exit 0
fi
echo "Running until Ctrl-C (then the intake and workers stop; services keep running)."
while alive "$run_dir/intake.pid"; do sleep 1; done
echo "the intake exited; see $log_dir/intake.log"
stop_all
