#!/usr/bin/env bash
# README's main command: services up, schema migrated, intake started in the background.
#   bash infra/run.sh          start (idempotent) and print the URLs
#   bash infra/run.sh stop     stop the intake this script started (services keep running)
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
mkdir -p "$local_dir/logs"

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

if [ "${1:-}" = "stop" ]; then
  if running; then
    kill "$(cat "$pid_file")"
    while running; do sleep 0.2; done
    echo "intake: stopped"
  else
    echo "intake: not running"
  fi
  rm -f "$pid_file"
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
  dotnet "$intake" migrate
  ASPNETCORE_ENVIRONMENT=Production nohup dotnet "$intake" --urls "$url" >"$log_file" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 60); do
    if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
    if ! running; then echo "intake failed to start; last log lines:"; tail -n 30 "$log_file"; exit 1; fi
    sleep 0.5
  done
  curl -fsS "$url/health" >/dev/null || { echo "intake did not answer at $url/health"; tail -n 30 "$log_file"; exit 1; }
fi

cat <<EOT
Intake:               $url   (OpenAPI: $url/openapi/v1.json, log: $log_file)
RabbitMQ management:  http://127.0.0.1:${Seckill__RabbitMq__ManagementPort}   (user ${Seckill__RabbitMq__Username}, password in $env_file)
Admin key:            Seckill__AdminKey in $env_file

Try:  curl -s -X POST $url/api/campaigns -H "X-Admin-Key: \$Seckill__AdminKey" -H 'Content-Type: application/json' -d '{"name":"demo","stock":100}'
Stop: bash infra/run.sh stop      (services: bash infra/services.sh stop)
EOT
