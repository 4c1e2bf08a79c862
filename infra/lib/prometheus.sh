# shellcheck shell=bash
# Prometheus 2 plus one prometheus-redis-exporter per Redis shard and one
# prometheus-postgres-exporter, for infra/services.sh (sourced). Debian's
# packages, run as our own processes (not their system services) on
# 127.0.0.1, with config, data, logs and pid files under $LOCAL/prometheus.

PROM_DIR=$LOCAL/prometheus
PROM_CONFIG=$PROM_DIR/prometheus.yml
# File-based service discovery: infra/run.sh writes the workers' targets here,
# a test writes its own; Prometheus picks changes up without a restart.
PROM_TARGETS=$PROM_DIR/targets
PROM_URL=http://127.0.0.1:$PROM_PORT
# The scrape configuration itself is infra/prometheus/prometheus.yml.
PROM_SCRAPE_INTERVAL=${SECKILL_PROMETHEUS_SCRAPE_INTERVAL:-2s}
PROM_BIN=/usr/bin/prometheus
REDIS_EXPORTER_BIN=/usr/bin/prometheus-redis-exporter
PG_EXPORTER_BIN=/usr/bin/prometheus-postgres-exporter

# The gateway, intakes and workers are not ours to start (infra/run.sh does), but where
# they listen is fixed so Prometheus and `status` know where to look.
GATEWAY_PORT=${SECKILL_GATEWAY_PORT:-5080}
INTAKE_BASE_PORT=${SECKILL_INTAKE_BASE_PORT:-5080}
WORKER_BASE_PORT=${SECKILL_WORKER_BASE_PORT:-5090}

# ---------------------------------------------------------------- packages --
prom_ensure_packages() {
  local missing=()
  [[ -x $PROM_BIN ]] || missing+=(prometheus)
  [[ -x $REDIS_EXPORTER_BIN ]] || missing+=(prometheus-redis-exporter)
  [[ -x $PG_EXPORTER_BIN ]] || missing+=(prometheus-postgres-exporter)
  (( ${#missing[@]} )) || return 0
  say "installing missing packages (${missing[*]}) with apt-get..."
  [[ ${APT_UPDATED:-0} == 1 ]] || apt-get update
  # No recommends: they pull in prometheus-node-exporter and its collectors, which nothing here reads.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  # On a systemd machine the packages start their own services on 9090/9121/9187,
  # which would take the ports ours need; ours are the only ones wanted.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    local unit
    for unit in "${missing[@]}"; do
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
}

# ------------------------------------------------------------------ procs --
# One pid file per process; "ours" = the expected binary with our config or
# port on its command line (comm is cut to 15 characters by the kernel).
prom_proc_pid() { # NAME BIN NEEDLE
  local pid
  pid=$(read_pidfile "$PROM_DIR/run/$1.pid")
  [[ -n $pid ]] && pid_is "$pid" "$(basename "$2" | cut -c1-15)" "$3" && printf '%s\n' "$pid"
}

prom_http_ok() { curl -fs -o /dev/null --max-time 3 "$1"; }

# Starts BIN in its own session unless NAME already runs; waits until URL answers.
prom_proc_up() { # NAME BIN NEEDLE PORT PORT_VAR URL ARGS...
  local name=$1 bin=$2 needle=$3 port=$4 port_var=$5 url=$6 pid start=$SECONDS log
  shift 6
  log=$PROM_DIR/log/$name.log
  if pid=$(prom_proc_pid "$name" "$bin" "$needle"); then
    wait_for 30 "$pid" prom_http_ok "$url" || die "$name: pid $pid is running but $url does not answer"
    say "$name: already running on 127.0.0.1:$port"
    return 0
  fi
  ensure_port_free "$port" "$port_var" "$name"
  mkdir -p "$PROM_DIR/run" "$PROM_DIR/log"
  printf '\n=== %s services.sh up ===\n' "$(date -Is)" >>"$log"
  setsid "$bin" "$@" </dev/null >>"$log" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PROM_DIR/run/$name.pid"
  if ! wait_for 60 "$pid" prom_http_ok "$url"; then
    show_log "$log" 20
    die "$name: not answering at $url (log: $log)"
  fi
  say "$name: started on 127.0.0.1:$port ($(elapsed "$start"))"
}

prom_proc_stop() { # NAME BIN NEEDLE
  local pid
  pid=$(prom_proc_pid "$1" "$2" "$3") || { say "$1: not running"; rm -f "$PROM_DIR/run/$1.pid"; return 0; }
  # All three flush and exit on SIGTERM (Prometheus closes its TSDB head cleanly).
  kill -TERM "$pid" 2>/dev/null || true
  wait_pid_gone "$pid" 60 || die "$1: pid $pid did not exit after SIGTERM; stop it by hand"
  rm -f "$PROM_DIR/run/$1.pid"
  say "$1: stopped"
}

prom_proc_status() { # NAME BIN NEEDLE PORT URL
  local pid
  if pid=$(prom_proc_pid "$1" "$2" "$3"); then
    if prom_http_ok "$5"; then
      say "$1: running on 127.0.0.1:$4 (pid $pid)"
    else
      say "$1: running but NOT answering at $5 (pid $pid, log $PROM_DIR/log/$1.log)"
    fi
    return 0
  fi
  say "$1: stopped (127.0.0.1:$4)"
  return 3
}

# --------------------------------------------------------------- exporters --
redis_exporter_port() { printf '%s\n' "$((REDIS_EXPORTER_BASE_PORT + $1 - REDIS_BASE_PORT))"; } # REDIS_PORT

redis_exporter() { # ACTION REDIS_PORT
  local port name
  port=$(redis_exporter_port "$2")
  name="redis-exporter:$port"
  case $1 in
    up) prom_proc_up "$name" "$REDIS_EXPORTER_BIN" "127.0.0.1:$port" "$port" SECKILL_REDIS_EXPORTER_BASE_PORT \
          "http://127.0.0.1:$port/metrics" \
          -redis.addr "redis://127.0.0.1:$2" -web.listen-address "127.0.0.1:$port" ;;
    stop) prom_proc_stop "$name" "$REDIS_EXPORTER_BIN" "127.0.0.1:$port" ;;
    status) prom_proc_status "$name" "$REDIS_EXPORTER_BIN" "127.0.0.1:$port" "$port" "http://127.0.0.1:$port/metrics" ;;
  esac
}

pg_exporter() { # ACTION
  local name=postgres-exporter
  case $1 in
    # The DSN goes through the environment, never the command line (ps shows that to everyone).
    up) DATA_SOURCE_NAME="postgresql://seckill:${SECRET[SECKILL_PG_PASSWORD]}@127.0.0.1:$PG_PORT/seckill?sslmode=disable" \
          prom_proc_up "$name" "$PG_EXPORTER_BIN" "127.0.0.1:$PG_EXPORTER_PORT" "$PG_EXPORTER_PORT" SECKILL_PG_EXPORTER_PORT \
          "http://127.0.0.1:$PG_EXPORTER_PORT/metrics" \
          --web.listen-address="127.0.0.1:$PG_EXPORTER_PORT" ;;
    stop) prom_proc_stop "$name" "$PG_EXPORTER_BIN" "127.0.0.1:$PG_EXPORTER_PORT" ;;
    status) prom_proc_status "$name" "$PG_EXPORTER_BIN" "127.0.0.1:$PG_EXPORTER_PORT" "$PG_EXPORTER_PORT" \
              "http://127.0.0.1:$PG_EXPORTER_PORT/metrics" ;;
  esac
}

# -------------------------------------------------------------- prometheus --
prom_write_config() {
  local p groups=''
  mkdir -p "$PROM_DIR/data" "$PROM_TARGETS"
  for p in $(redis_configured_ports); do
    groups+="${groups:+,}
  {\"targets\": [\"127.0.0.1:$(redis_exporter_port "$p")\"], \"labels\": {\"shard\": \"$((p - REDIS_BASE_PORT))\", \"redis\": \"127.0.0.1:$p\"}}"
  done
  # Written whole and renamed: Prometheus may read either file at any moment.
  printf '[%s\n]\n' "$groups" >"$PROM_TARGETS/redis.json.tmp"
  mv -f "$PROM_TARGETS/redis.json.tmp" "$PROM_TARGETS/redis.json"
  sed -e "s|@SCRAPE_INTERVAL@|$PROM_SCRAPE_INTERVAL|g" \
      -e "s|@INTAKE_BASE_PORT@|$INTAKE_BASE_PORT|g" \
      -e "s|@WORKER_BASE_PORT@|$WORKER_BASE_PORT|g" \
      -e "s|@TARGETS@|$PROM_TARGETS|g" \
      -e "s|@RABBIT_PROM_PORT@|$RABBIT_PROM_PORT|g" \
      -e "s|@PG_EXPORTER_PORT@|$PG_EXPORTER_PORT|g" \
      -e "s|@PROM_PORT@|$PROM_PORT|g" \
      -e "1,2c\\
# Generated by infra/services.sh from infra/prometheus/prometheus.yml on every start; edits are overwritten." \
      "$INFRA_DIR/prometheus/prometheus.yml" >"$PROM_CONFIG.tmp"
  mv -f "$PROM_CONFIG.tmp" "$PROM_CONFIG"
}

prom_server() { # ACTION
  case $1 in
    up)
      local pid
      prom_write_config
      # Already running: reload so a changed shard count or port reaches it.
      if pid=$(prom_proc_pid prometheus "$PROM_BIN" "$PROM_CONFIG"); then kill -HUP "$pid" 2>/dev/null || true; fi
      prom_proc_up prometheus "$PROM_BIN" "$PROM_CONFIG" "$PROM_PORT" SECKILL_PROMETHEUS_PORT "$PROM_URL/-/ready" \
        --config.file="$PROM_CONFIG" \
        --storage.tsdb.path="$PROM_DIR/data" \
        --storage.tsdb.retention.time="${SECKILL_PROMETHEUS_RETENTION:-7d}" \
        --web.listen-address="127.0.0.1:$PROM_PORT" \
        --web.enable-lifecycle ;;
    stop) prom_proc_stop prometheus "$PROM_BIN" "$PROM_CONFIG" ;;
    status) prom_proc_status prometheus "$PROM_BIN" "$PROM_CONFIG" "$PROM_PORT" "$PROM_URL/-/ready" ;;
  esac
}

prom_preflight() {
  local p port
  prom_proc_pid prometheus "$PROM_BIN" "$PROM_CONFIG" >/dev/null || ensure_port_free "$PROM_PORT" SECKILL_PROMETHEUS_PORT prometheus
  prom_proc_pid postgres-exporter "$PG_EXPORTER_BIN" "127.0.0.1:$PG_EXPORTER_PORT" >/dev/null \
    || ensure_port_free "$PG_EXPORTER_PORT" SECKILL_PG_EXPORTER_PORT postgres-exporter
  for p in $(redis_configured_ports); do
    port=$(redis_exporter_port "$p")
    prom_proc_pid "redis-exporter:$port" "$REDIS_EXPORTER_BIN" "127.0.0.1:$port" >/dev/null \
      || ensure_port_free "$port" SECKILL_REDIS_EXPORTER_BASE_PORT "redis-exporter:$port"
  done
}

# Exporters first: Prometheus's first scrape then already finds them up.
prom_up() {
  local p
  prom_ensure_packages
  for p in $(redis_configured_ports); do redis_exporter up "$p"; done
  pg_exporter up
  prom_server up
}

prom_stop() {
  local p f
  prom_server stop
  pg_exporter stop
  # Every exporter we started, also for shards no longer configured.
  for f in "$PROM_DIR"/run/redis-exporter:*.pid; do
    [[ -e $f ]] || continue
    p=${f##*:}; p=${p%.pid}
    redis_exporter stop "$((p - REDIS_EXPORTER_BASE_PORT + REDIS_BASE_PORT))"
  done
}

prom_status() {
  local p rc=0
  prom_server status || rc=3
  for p in $(redis_configured_ports); do redis_exporter status "$p" || rc=3; done
  pg_exporter status || rc=3
  return "$rc"
}

# ------------------------------------------------------------ applications --
# The gateway, intakes and workers started by infra/run.sh: their readiness
# (every Redis shard, RabbitMQ, PostgreSQL; the gateway: its intakes) as they
# see it. Informational: they are not services of this script, so they never
# change its exit code.
app_status() {
  local run=$LOCAL/run f k port kind
  app_health gateway "$GATEWAY_PORT" "$run/gateway.pid"
  for kind in intake worker; do
    for f in "$run"/"$kind"-*.pid; do
      [[ -e $f ]] || continue
      k=${f##*/"$kind"-}; k=${k%.pid}
      [[ $k =~ ^[0-9]+$ ]] || continue
      if [[ $kind == intake ]]; then port=$((INTAKE_BASE_PORT + k)); else port=$((WORKER_BASE_PORT + k)); fi
      app_health "$kind-$k" "$port" "$f"
    done
  done
}

app_health() { # NAME PORT PIDFILE
  local pid code body
  pid=$(read_pidfile "$3")
  if [[ -z $pid ]] || ! pid_alive "$pid"; then
    # A process started another way (an IDE, dotnet run) still counts if it answers.
    port_open "$2" || { say "$1: not running (127.0.0.1:$2)"; return 0; }
    pid='?'
  fi
  body=$(curl -s --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$2/health/ready" 2>/dev/null) || body=$'\n000'
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  case $code in
    200) say "$1: ready on http://127.0.0.1:$2 (pid $pid)" ;;
    000) say "$1: running (pid $pid) but not answering on http://127.0.0.1:$2" ;;
    *) say "$1: NOT ready on http://127.0.0.1:$2 (pid $pid, /health/ready $code${body:+: $(tr -s '\n ' ' ' <<<"$body" | cut -c1-200)})" ;;
  esac
}
