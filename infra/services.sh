#!/usr/bin/env bash
# Local backing services for Seckill without Docker: PostgreSQL 15, RabbitMQ
# 3.10 (+ management UI and Prometheus endpoint), N Redis 7 shards and
# Prometheus 2 with a Redis exporter per shard and a PostgreSQL exporter, all
# on 127.0.0.1 only, with data, logs, pid files and sockets under
# $SECKILL_LOCAL_DIR (default <repo>/.local). Docker users: see
# infra/compose.yaml instead.
#
# Usage: infra/services.sh up|stop|status|restart [postgres|rabbitmq|redis|redis:<port>|prometheus]
#        infra/services.sh env                  print the path of the env file
#        infra/services.sh rabbitmqctl ARGS...  rabbitmqctl against our node
#        (likewise rabbitmq-diagnostics, rabbitmq-queues, rabbitmq-plugins)
#
# Ports (env overrides): SECKILL_PG_PORT=5432 SECKILL_AMQP_PORT=5672
#   SECKILL_RABBIT_MGMT_PORT=15672 SECKILL_REDIS_BASE_PORT=6380
#   SECKILL_REDIS_SHARDS=4 (ports base..base+N-1) SECKILL_PROMETHEUS_PORT=9090
#   SECKILL_REDIS_EXPORTER_BASE_PORT=9121 (one per shard) SECKILL_PG_EXPORTER_PORT=9187
#   SECKILL_RABBIT_PROMETHEUS_PORT=15692; where Prometheus and `status` look for
#   the gateway, intakes and workers: SECKILL_GATEWAY_PORT=5080
#   SECKILL_INTAKE_BASE_PORT=5080 SECKILL_WORKER_BASE_PORT=5090 (intake and
#   worker k on base+k, as infra/run.sh starts them). Rarely needed:
#   SECKILL_RABBIT_DIST_PORT (default AMQP+20000), SECKILL_RABBIT_NODENAME.
#
# `up` writes $SECKILL_LOCAL_DIR/seckill.env: KEY='value' lines, every value
# single-quoted. Bash: set -a; . .local/seckill.env; set +a
# Other readers: split at the first '=', strip one pair of surrounding '.
# Secrets are generated once into .local/secrets.env (mode 600) and reused.
#
# `status` exits 0 when every selected service runs, 3 otherwise; it also
# shows the readiness of the gateway, intakes and workers started by infra/run.sh.
# Needs root: postgres must be started as the postgres OS user.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(dirname "$INFRA_DIR")

LOCAL=${SECKILL_LOCAL_DIR:-$REPO_ROOT/.local}
PG_PORT=${SECKILL_PG_PORT:-5432}
AMQP_PORT=${SECKILL_AMQP_PORT:-5672}
RABBIT_MGMT_PORT=${SECKILL_RABBIT_MGMT_PORT:-15672}
REDIS_BASE_PORT=${SECKILL_REDIS_BASE_PORT:-6380}
REDIS_SHARDS=${SECKILL_REDIS_SHARDS:-4}
PROM_PORT=${SECKILL_PROMETHEUS_PORT:-9090}
REDIS_EXPORTER_BASE_PORT=${SECKILL_REDIS_EXPORTER_BASE_PORT:-9121}
PG_EXPORTER_PORT=${SECKILL_PG_EXPORTER_PORT:-9187}
RABBIT_PROM_PORT=${SECKILL_RABBIT_PROMETHEUS_PORT:-15692}

# shellcheck source=lib/common.sh
. "$INFRA_DIR/lib/common.sh"
require_port SECKILL_PG_PORT "$PG_PORT"
require_port SECKILL_AMQP_PORT "$AMQP_PORT"
require_port SECKILL_RABBIT_MGMT_PORT "$RABBIT_MGMT_PORT"
require_port SECKILL_REDIS_BASE_PORT "$REDIS_BASE_PORT"
require_port SECKILL_PROMETHEUS_PORT "$PROM_PORT"
require_port SECKILL_REDIS_EXPORTER_BASE_PORT "$REDIS_EXPORTER_BASE_PORT"
require_port SECKILL_PG_EXPORTER_PORT "$PG_EXPORTER_PORT"
require_port SECKILL_RABBIT_PROMETHEUS_PORT "$RABBIT_PROM_PORT"
[[ $REDIS_SHARDS =~ ^[1-9][0-9]*$ ]] && (( REDIS_BASE_PORT + REDIS_SHARDS - 1 <= 65535 )) \
  || die "SECKILL_REDIS_SHARDS=$REDIS_SHARDS is not a usable shard count"

# The distribution port conventionally sits at AMQP+20000; fall back below
# the AMQP port when that would overflow (e.g. AMQP on 55672).
if (( AMQP_PORT + 20000 <= 65535 )); then default_dist=$((AMQP_PORT + 20000)); else default_dist=$((AMQP_PORT - 10000)); fi
RABBIT_DIST_PORT=${SECKILL_RABBIT_DIST_PORT:-$default_dist}
require_port SECKILL_RABBIT_DIST_PORT "$RABBIT_DIST_PORT"
# Node names share the machine-wide epmd, so a second stack (other ports)
# needs its own name; the default stack keeps the conventional one.
if [[ $AMQP_PORT == 5672 ]]; then default_node=rabbit@localhost; else default_node=rabbit-$AMQP_PORT@localhost; fi
RABBIT_NODENAME=${SECKILL_RABBIT_NODENAME:-$default_node}

# Fixed paths instead of PATH lookups: /usr/local/bin may hold symlinks that
# do not exist on a fresh machine, and /usr/sbin/rabbitmq* su to another user.
PG_BIN=${SECKILL_PG_BIN:-/usr/lib/postgresql/15/bin}
RMQ_BIN=${SECKILL_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}

mkdir -p "$LOCAL"
LOCAL=$(cd "$LOCAL" && pwd -P)   # absolute and symlink-free: it ends up in configs and pid checks

# shellcheck source=lib/postgres.sh
. "$INFRA_DIR/lib/postgres.sh"
# shellcheck source=lib/rabbitmq.sh
. "$INFRA_DIR/lib/rabbitmq.sh"
# shellcheck source=lib/redis.sh
. "$INFRA_DIR/lib/redis.sh"
# shellcheck source=lib/prometheus.sh
. "$INFRA_DIR/lib/prometheus.sh"

usage() {
  sed -n '9,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Expands the optional service argument into postgres / rabbitmq / redis:<port> / prometheus items
# (prometheus = the server and its exporters; they come last, after what they watch).
select_services() { # ACTION [SERVICE]
  local port
  case ${2:-all} in
    all)
      SELECTED=(postgres rabbitmq)
      if [[ $1 == stop ]]; then
        for port in $(redis_known_ports); do SELECTED+=("redis:$port"); done
      else
        for port in $(redis_configured_ports); do SELECTED+=("redis:$port"); done
      fi
      SELECTED+=(prometheus) ;;
    postgres|postgresql|pg) SELECTED=(postgres) ;;
    rabbitmq|rabbit) SELECTED=(rabbitmq) ;;
    prometheus|prom) SELECTED=(prometheus) ;;
    redis)
      SELECTED=()
      for port in $(if [[ $1 == stop ]]; then redis_known_ports; else redis_configured_ports; fi); do
        SELECTED+=("redis:$port")
      done ;;
    redis:*)
      port=${2#redis:}
      [[ $port =~ ^[0-9]+$ ]] || die "bad redis port in '$2'"
      if [[ $1 != stop && $1 != status ]] && (( port < REDIS_BASE_PORT || port >= REDIS_BASE_PORT + REDIS_SHARDS )); then
        die "redis:$port is outside the configured shard ports $REDIS_BASE_PORT..$((REDIS_BASE_PORT + REDIS_SHARDS - 1)) (SECKILL_REDIS_BASE_PORT/SECKILL_REDIS_SHARDS)"
      fi
      SELECTED=("redis:$port") ;;
    *) die "unknown service '$2' (expected postgres, rabbitmq, redis, redis:<port> or prometheus)" ;;
  esac
}

need_root() {
  (( EUID == 0 )) || die "run as root: postgres is started via runuser as the postgres OS user"
}

# Serializes concurrent up/stop runs (parallel CI jobs, two terminals).
take_lock() {
  exec 9>"$LOCAL/.services.lock"
  flock -w 300 9 || die "another services.sh is still running (lock $LOCAL/.services.lock)"
}

cmd_up() {
  local s start=$SECONDS
  ensure_packages
  # Check every port before starting anything, so a clash leaves nothing half-up.
  for s in "${SELECTED[@]}"; do
    case $s in
      postgres) pg_preflight ;;
      rabbitmq) rabbit_preflight ;;
      redis:*) redis_preflight "${s#redis:}" ;;
      prometheus) prom_preflight ;;
    esac
  done
  load_secrets
  ensure_gateway_keys
  write_env_file
  # RabbitMQ boots slowest; start it first and collect it last.
  local with_rabbit=0
  [[ " ${SELECTED[*]} " != *" rabbitmq "* ]] || with_rabbit=1
  if (( with_rabbit )); then rabbit_launch; fi
  for s in "${SELECTED[@]}"; do
    case $s in
      postgres) pg_up ;;
      redis:*) redis_up "${s#redis:}" ;;
    esac
  done
  if (( with_rabbit )); then rabbit_finish; fi
  [[ " ${SELECTED[*]} " != *" prometheus "* ]] || prom_up
  summary "$start"
}

summary() { # START_SECONDS
  local redis_list='' i
  for ((i = 0; i < REDIS_SHARDS; i++)); do redis_list+=" 127.0.0.1:$((REDIS_BASE_PORT + i))"; done
  cat <<TXT

Ready in $(elapsed "$1").
  PostgreSQL: 127.0.0.1:$PG_PORT  database/user seckill
  Redis:     $redis_list
  RabbitMQ:   amqp://127.0.0.1:$AMQP_PORT  vhost /  (node $RABBIT_NODENAME)
  RabbitMQ management UI: $RMQ_MGMT_URL (user seckill, password in $LOCAL/seckill.env)
  Prometheus: $PROM_URL  (scrapes RabbitMQ :$RABBIT_PROM_PORT, Redis exporters :$REDIS_EXPORTER_BASE_PORT.., PostgreSQL exporter :$PG_EXPORTER_PORT,
              the intakes :$((INTAKE_BASE_PORT + 1)).. and workers :$((WORKER_BASE_PORT + 1)).. while infra/run.sh runs them)
Env file: $LOCAL/seckill.env   (bash: set -a; . $LOCAL/seckill.env; set +a)
TXT
}

cmd_stop() {
  local s
  # Watchers first, so they do not log the others going away.
  [[ " ${SELECTED[*]} " != *" prometheus "* ]] || prom_stop
  for s in "${SELECTED[@]}"; do
    case $s in
      postgres) pg_stop ;;
      rabbitmq) rabbit_stop ;;
      redis:*) redis_stop "${s#redis:}" ;;
    esac
  done
}

cmd_status() {
  local s rc=0
  for s in "${SELECTED[@]}"; do
    case $s in
      postgres) pg_status || rc=3 ;;
      rabbitmq) rabbit_status || rc=3 ;;
      redis:*) redis_status "${s#redis:}" || rc=3 ;;
      prometheus) prom_status || rc=3 ;;
    esac
  done
  [[ ${STATUS_ALL:-0} == 0 ]] || app_status
  return "$rc"
}

main() {
  local action=${1:-}
  case $action in
    up|stop|restart|status)
      (( $# <= 2 )) || usage
      select_services "$action" "${2:-}"
      case $action in
        up)      need_root; take_lock; cmd_up ;;
        stop)    need_root; take_lock; cmd_stop ;;
        restart) need_root; take_lock; cmd_stop; cmd_up ;;
        status)  [[ -n ${2:-} ]] || STATUS_ALL=1; cmd_status ;;
      esac ;;
    env)
      printf '%s\n' "$LOCAL/seckill.env" ;;
    rabbitmqctl|rabbitmq-diagnostics|rabbitmq-queues|rabbitmq-plugins)
      shift
      rmq "$action" "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

main "$@"
