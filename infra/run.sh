#!/usr/bin/env bash
# README's main command: a whole simulated flash sale on the local default.
# Services up, schema migrated, two intakes, the gateway in front of them and the workers started, a
# campaign created with a 30 s payment window and a crowd of buyers sent through the gateway by the load
# generator, each with its own token; the winners pay (a --pay-share of
# them, default 0.8) or let the deadline pass, and once the window has closed the buyers told
# sold-out come back for the units expiry released. Then the report, the chart and the URLs are
# printed and everything stays up for exploration until Ctrl-C, which stops what this script
# started (the services keep running: bash infra/services.sh stop).
#
#   bash infra/run.sh [--stock N] [--buyers N] [--shards M] [--intakes N] [--workers K] [--worker-rate R]
#                     [--pay-share F] [--no-sale] [--detach]
#   bash infra/run.sh stop      stop the gateway, intakes and workers left running by --detach (SIGTERM; a process
#                               still running after SECKILL_STOP_TIMEOUT seconds, default 45, is reported
#                               with its pid and the command exits 1)
#
# Ports: the gateway on SECKILL_GATEWAY_PORT (5080, its /metrics on SECKILL_GATEWAY_METRICS_PORT, 5079), intake k on SECKILL_INTAKE_BASE_PORT+k (5081, 5082),
# worker k on SECKILL_WORKER_BASE_PORT+k (5091, …); all on 127.0.0.1.
# The gateway, intakes and workers inherit this script's environment, so any Seckill__* setting given to it
# reaches them, e.g.  Seckill__Sweeper__PendingTimeout=00:00:10 bash infra/run.sh --workers 1 --worker-rate 40
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The worker rate defaults to one given in the environment, which the workers' own variable below would otherwise override.
stock=10000 buyers=100000 shards=4 intakes=2 workers=2 worker_rate=${Seckill__Worker__MaxOrdersPerSecond:-0} sale=1 detach=0 command=start
# Short, so expiry and resale happen within the demo: the run takes about the window plus ~5 s longer.
pay_share=0.8 payment_window=30
while [ $# -gt 0 ]; do
  case "$1" in
    --stock) stock=$2; shift 2 ;;
    --buyers) buyers=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --intakes) intakes=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --worker-rate) worker_rate=$2; shift 2 ;;
    --pay-share) pay_share=$2; shift 2 ;;
    --no-sale) sale=0; shift ;;
    --detach) detach=1; shift ;;
    stop) command=stop; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for value in "$stock" "$buyers" "$shards" "$intakes" "$workers" "$worker_rate"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "not a whole number: $value" >&2; exit 2; }
done
(( intakes >= 1 )) || { echo "--intakes must be at least 1" >&2; exit 2; }
[[ $pay_share =~ ^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$ ]] || { echo "--pay-share must be a number from 0 to 1: $pay_share" >&2; exit 2; }

gateway_port=${SECKILL_GATEWAY_PORT:-5080}
intake_base_port=${SECKILL_INTAKE_BASE_PORT:-5080}
worker_base_port=${SECKILL_WORKER_BASE_PORT:-5090}
url="http://127.0.0.1:${gateway_port}"

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
# The pid files' names sort the gateway first, so it stops taking buyers before the intakes behind it go.
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

for pid_file in "$run_dir"/*.pid; do
  if alive "$pid_file"; then
    echo "$(basename "$pid_file" .pid), started by this script, is still running; stop it first: bash infra/run.sh stop" >&2
    exit 1
  fi
done
intake_ports=()
for i in $(seq 1 "$intakes"); do intake_ports+=($((intake_base_port + i))); done
for port in "$gateway_port" "${intake_ports[@]}"; do
  if port_open "$port"; then
    echo "port $port on 127.0.0.1 is taken by a process this script did not start (SECKILL_GATEWAY_PORT, SECKILL_INTAKE_BASE_PORT move ours)" >&2
    exit 1
  fi
done

echo "building (Release)…"
for project in services/Seckill.Intake services/Seckill.Gateway services/Seckill.Worker tests/Seckill.LoadTest; do
  dotnet build -c Release -v quiet -nologo "$project" >/dev/null
done
intake=services/Seckill.Intake/bin/Release/net10.0/Seckill.Intake.dll
gateway=services/Seckill.Gateway/bin/Release/net10.0/Seckill.Gateway.dll
worker=services/Seckill.Worker/bin/Release/net10.0/Seckill.Worker.dll

dotnet "$intake" migrate >>"$log_dir/intake-1.log" 2>&1
echo "schema: up to date"

if [ "$detach" = 0 ]; then
  trap 'echo; stop_all; exit 0' INT TERM
fi

# Prometheus finds the intakes and workers through the file_sd lists written here (infra/services.sh
# configures it to read them). Written whole and renamed: Prometheus may read a file at any moment.
write_targets() { # NAME SERVICE TARGET...
  local name=$1 service=$2 list
  shift 2
  [ -n "${SECKILL_PROMETHEUS_TARGETS:-}" ] || return 0
  mkdir -p "$SECKILL_PROMETHEUS_TARGETS"
  list=$(printf '"%s",' "$@")
  printf '[{"targets": [%s], "labels": {"service": "%s"}}]\n' "${list%,}" "$service" >"$SECKILL_PROMETHEUS_TARGETS/$name.json.tmp"
  mv -f "$SECKILL_PROMETHEUS_TARGETS/$name.json.tmp" "$SECKILL_PROMETHEUS_TARGETS/$name.json"
}

# --contentRoot: appsettings.json sits beside the program, not in the working directory.
# The intakes trust X-User-Id, so they listen on loopback only and the crowd reaches them through the gateway.
intake_urls=() intake_targets=()
for i in $(seq 1 "$intakes"); do
  intake_urls+=("http://127.0.0.1:${intake_ports[$((i - 1))]}")
  intake_targets+=("127.0.0.1:${intake_ports[$((i - 1))]}")
  ASPNETCORE_ENVIRONMENT=Production nohup dotnet "$intake" --urls "${intake_urls[-1]}" --contentRoot "$root/$(dirname "$intake")" \
    >"$log_dir/intake-$i.log" 2>&1 &
  echo $! >"$run_dir/intake-$i.pid"
done
write_targets intake intake "${intake_targets[@]}"

# The gateway's /metrics is on a port of its own: its main port faces the crowd.
gateway_metrics_port=${SECKILL_GATEWAY_METRICS_PORT:-5079}
gateway_env=("Seckill__Gateway__MetricsUrl=http://127.0.0.1:$gateway_metrics_port")
for i in "${!intake_urls[@]}"; do gateway_env+=("Seckill__Gateway__Intakes__$i=${intake_urls[$i]}"); done
write_targets gateway gateway "127.0.0.1:$gateway_metrics_port"
env "${gateway_env[@]}" ASPNETCORE_ENVIRONMENT=Production \
  nohup dotnet "$gateway" --urls "$url" --contentRoot "$root/$(dirname "$gateway")" >"$log_dir/gateway.log" 2>&1 &
echo $! >"$run_dir/gateway.pid"

worker_targets=()
for i in $(seq 1 "$workers"); do
  Seckill__Worker__MaxOrdersPerSecond=$worker_rate Seckill__Worker__HttpPort=$((worker_base_port + i)) DOTNET_ENVIRONMENT=Production \
    nohup dotnet "$worker" >"$log_dir/worker-$i.log" 2>&1 &
  echo $! >"$run_dir/worker-$i.pid"
  worker_targets+=("127.0.0.1:$((worker_base_port + i))")
done
write_targets worker worker "${worker_targets[@]}"

# Ready, not just live: a sale sent at an intake still connecting to Redis or RabbitMQ would start with 503s.
wait_ready() { # NAME URL
  for _ in $(seq 1 120); do
    curl -fsS "$2/health/ready" >/dev/null 2>&1 && return 0
    alive "$run_dir/$1.pid" || { echo "$1 failed to start:"; tail -n 30 "$log_dir/$1.log"; stop_all; exit 1; }
    sleep 0.5
  done
  curl -fsS "$2/health/ready" >/dev/null || { echo "$1 is not ready at $2/health/ready (log: $log_dir/$1.log)"; stop_all; exit 1; }
}
for i in $(seq 1 "$intakes"); do wait_ready "intake-$i" "${intake_urls[$((i - 1))]}"; done
wait_ready gateway "$url"
for i in $(seq 1 "$workers"); do
  alive "$run_dir/worker-$i.pid" || { echo "worker $i failed to start:"; tail -n 30 "$log_dir/worker-$i.log"; stop_all; exit 1; }
done
echo "gateway: $url → intakes: ${intake_urls[*]}   workers: $workers (rate per process: ${worker_rate:-0}/s, 0 = unlimited)"

# Printed before the sale, so the dashboard, Prometheus and the RabbitMQ UI can be opened while it moves.
where_to_look() {
  cat <<EOT

Gateway:              $url   (the only door for buyers; OpenAPI: $url/openapi/v1.json, live dashboard: $url/dashboard/)
Intakes:              ${intake_urls[*]}   (loopback only; they trust X-User-Id, so buyers must not reach them)
Workers:              /metrics and /health on 127.0.0.1:$((worker_base_port + 1))..$((worker_base_port + workers))
RabbitMQ management:  http://127.0.0.1:${Seckill__RabbitMq__ManagementPort}   (user ${Seckill__RabbitMq__Username}, password in $env_file)
Prometheus:           ${SECKILL_PROMETHEUS_URL:-http://127.0.0.1:9090}/classic/graph   (queries: README "What to watch")
Health:               bash infra/services.sh status   (each server, exporter, the gateway's, intakes' and workers' /health/ready)
Logs:                 $log_dir/
Admin key:            Seckill__AdminKey in $env_file
A buyer token:        TOKEN=\$(dotnet $gateway token --user alice)   (after: set -a; . $env_file; set +a)
Try:  curl -s $url/api/campaigns -H "X-Admin-Key: \$Seckill__AdminKey"
      curl -s -X POST $url/api/campaigns/<id>/purchases -H "Authorization: Bearer \$TOKEN"
EOT
}

where_to_look
if [ "$sale" = 1 ]; then
  echo
  echo "The sale starts now; watch it on the dashboard (admin key: Seckill__AdminKey in $env_file), in Prometheus and in the RabbitMQ UI."
  dotnet tests/Seckill.LoadTest/bin/Release/net10.0/Seckill.LoadTest.dll \
    --intake "$url" --env-file "$env_file" --stock "$stock" --shards "$shards" --buyers "$buyers" \
    --payment-window "$payment_window" --pay-share "$pay_share" --token-cache "$local_dir/tokens" || true
  where_to_look
fi

if [ "$detach" = 1 ]; then
  echo "Left running; stop with: bash infra/run.sh stop"
  exit 0
fi
echo "Running until Ctrl-C (then the gateway, intakes and workers stop; services keep running)."
while alive "$run_dir/gateway.pid"; do
  for i in $(seq 1 "$intakes"); do
    alive "$run_dir/intake-$i.pid" || { echo "intake $i exited; see $log_dir/intake-$i.log"; stop_all; exit 1; }
  done
  sleep 1
done
echo "the gateway exited; see $log_dir/gateway.log"
stop_all
