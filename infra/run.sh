#!/usr/bin/env bash
# README's main command: services up, schema migrated, intake and one worker started in the background.
#   bash infra/run.sh          start (idempotent) and print the URLs
#   bash infra/run.sh stop     stop the intake and worker this script started (services keep running)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

port=${SECKILL_INTAKE_PORT:-5080}
url="http://127.0.0.1:${port}"

bash infra/services.sh up >/dev/null
env_file=$(bash infra/services.sh env)
local_dir=$(dirname "$env_file")
pid_file="$local_dir/intake.pid"
log_file="$local_dir/logs/intake.log"
worker_pid_file="$local_dir/worker.pid"
worker_log_file="$local_dir/logs/worker.log"
mkdir -p "$local_dir/logs"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
running() { alive "$pid_file"; }

stop_one() {
  if alive "$2"; then
    kill "$(cat "$2")"
    while alive "$2"; do sleep 0.2; done
    echo "$1: stopped"
  else
    echo "$1: not running"
  fi
  rm -f "$2"
}

if [ "${1:-}" = "stop" ]; then
  stop_one intake "$pid_file"
  stop_one worker "$worker_pid_file"
  exit 0
fi

set -a
# shellcheck disable=SC1090
. "$env_file"
set +a

if running; then
  echo "intake: already running (pid $(cat "$pid_file"))"
else
  dotnet build -c Release -v quiet -nologo services/Seckill.Intake/Seckill.Intake.csproj >/dev/null
  intake="services/Seckill.Intake/bin/Release/net10.0/Seckill.Intake.dll"
  dotnet "$intake" migrate >>"$log_file" 2>&1 && echo "schema: up to date"
  ASPNETCORE_ENVIRONMENT=Production nohup dotnet "$intake" --urls "$url" >"$log_file" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 60); do
    if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
    if ! running; then echo "intake failed to start; last log lines:"; tail -n 30 "$log_file"; exit 1; fi
    sleep 0.5
  done
  curl -fsS "$url/health" >/dev/null || { echo "intake did not answer at $url/health"; tail -n 30 "$log_file"; exit 1; }
fi

if alive "$worker_pid_file"; then
  echo "worker: already running (pid $(cat "$worker_pid_file"))"
else
  dotnet build -c Release -v quiet -nologo services/Seckill.Worker/Seckill.Worker.csproj >/dev/null
  DOTNET_ENVIRONMENT=Production nohup dotnet services/Seckill.Worker/bin/Release/net10.0/Seckill.Worker.dll >"$worker_log_file" 2>&1 &
  echo $! >"$worker_pid_file"
  sleep 2
  alive "$worker_pid_file" || { echo "worker failed to start; last log lines:"; tail -n 30 "$worker_log_file"; exit 1; }
fi

cat <<EOT
Intake:               $url   (OpenAPI: $url/openapi/v1.json, log: $log_file)
Worker:               pid $(cat "$worker_pid_file")   (log: $worker_log_file)
RabbitMQ management:  http://127.0.0.1:${Seckill__RabbitMq__ManagementPort}   (user ${Seckill__RabbitMq__Username}, password in $env_file)
Admin key:            Seckill__AdminKey in $env_file

Try:  curl -s -X POST $url/api/campaigns -H "X-Admin-Key: \$Seckill__AdminKey" -H 'Content-Type: application/json' -d '{"name":"demo","stock":100}'
Stop: bash infra/run.sh stop      (services: bash infra/services.sh stop)
EOT
