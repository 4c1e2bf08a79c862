# shellcheck shell=bash
# Shared by accept-cost.sh and drain-cost.sh (sourced): a throw-away RabbitMQ virtual host, the
# intake and worker as Release processes, and CPU snapshots of every process of the pipeline.
# shellcheck disable=SC1091,SC2154 # .local/seckill.env and lib/common.sh are generated/sourced at run time
. "$root/infra/lib/common.sh"   # port_open, pid_alive, wait_pid_gone
. "$root/infra/bench/lib.sh"    # export_pg_env, cpu_snapshot, cost_per_unit
set -a; . "$root/.local/seckill.env"; set +a
export_pg_env "$ConnectionStrings__Seckill"

run=$(date -u +%Y%m%dT%H%M%SZ)-$$
work=$root/.local/bench/cost-$run
mkdir -p "$work"
vhost=seckill-cost-$run
intake_pid='' worker_pid='' gateway_pid=''
# shellcheck disable=SC2034 # pin is used by the scripts that source this file
pin=()
# shellcheck disable=SC2034
if command -v taskset >/dev/null && (( $(nproc) > 1 )); then pin=(taskset -c "$(( $(nproc) - 1 ))"); fi

cleanup() {
  local pid
  for pid in $gateway_pid $intake_pid $worker_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  bash "$root/infra/services.sh" rabbitmqctl delete_vhost "$vhost" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash "$root/infra/services.sh" rabbitmqctl add_vhost "$vhost" >/dev/null
bash "$root/infra/services.sh" rabbitmqctl set_permissions -p "$vhost" "$Seckill__RabbitMq__Username" '.*' '.*' '.*' >/dev/null
export Seckill__RabbitMq__VirtualHost=$vhost

start_intake() { # [NAME=VALUE...]
  local port=5280
  while port_open "$port"; do port=$((port + 1)); done
  intake_url=http://127.0.0.1:$port
  ( cd "$root/services/Seckill.Intake/bin/Release/net10.0" && exec env ASPNETCORE_ENVIRONMENT=Production \
      "ASPNETCORE_URLS=$intake_url" "$@" dotnet Seckill.Intake.dll ) >"$work/intake.log" 2>&1 &
  intake_pid=$!
  until curl -sf "$intake_url/health" >/dev/null; do
    pid_alive "$intake_pid" || { echo "the intake did not start; log: $work/intake.log" >&2; exit 1; }
    sleep 0.3
  done
}
stop_intake() { kill "$intake_pid"; wait "$intake_pid" 2>/dev/null || true; intake_pid=''; }

start_worker() { # [NAME=VALUE...]
  ( cd "$root/services/Seckill.Worker/bin/Release/net10.0" && exec env DOTNET_ENVIRONMENT=Production "$@" \
      dotnet Seckill.Worker.dll ) >"$work/worker.log" 2>&1 &
  worker_pid=$!
}

create_campaign() { # STOCK -> id
  curl -sS -X POST "$intake_url/api/campaigns" -H "X-Admin-Key: $Seckill__AdminKey" -H 'Content-Type: application/json' \
    -d "{\"name\":\"cost $run\",\"stock\":$1,\"shards\":4}" | grep -o '"id":"[0-9a-f-]*"' | head -n1 | cut -d'"' -f4
}

print_costs() { # BEFORE AFTER COUNT PROCESS-NAME
  local proc broker redis pg machine
  read -r proc broker redis pg machine < <(cost_per_unit "$1" "$2" "$3")
  printf 'µs per unit: %s %s, RabbitMQ %s, Redis %s, PostgreSQL %s, machine %s\n' "$4" "$proc" "$broker" "$redis" "$pg" "$machine"
}
