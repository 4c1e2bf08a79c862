#!/usr/bin/env bash
# Benchmark of the seckill pipeline on THIS machine, in one run, so the ratios between the phases
# hold even on a noisy host (not part of CI; run it by hand on an otherwise quiet machine).
#
#   bash infra/bench.sh [--duration S] [--connections N] [--drain-orders N] [--rates R,R,...] [--warm S] [--quick]
#
#   --duration S       seconds of each measured HTTP phase and of the ingest reference (default 15)
#   --connections N    wrk connections of the HTTP phases and of the queue fills (default 64)
#   --drain-orders N   orders pre-filled into the queue for the unlimited drain, phase e (default 100000)
#   --rates R,...      MaxOrdersPerSecond of the rate-limited drains, one phase f<R> each (default 7,100,1000)
#   --warm S           seconds of load before the measured baseline and warm accept phases (default 30)
#   --quick            smoke run with small numbers (3 s phases, 2,000 orders, 5 s per rate); explicit flags win
#
# Phases (one intake, one baseline, one worker per drain, all Release builds with server GC):
#   a  baseline     tests/Seckill.Baseline: bare Kestrel, same route, same 202 body length + Location
#   b  accept       intake, stock far larger than the buyers, a new X-User-Id per request: first cold
#                   (b-cold, straight after start-up), then warm (after --warm seconds of load)
#   b½ accept @ ½   the accept path again, paced to half of b's requests/s (see "p99 at half" below)
#   b-low           the accept path at 100 purchases/s (a quiet sale: latency without any queueing)
#   c  sold-out     intake, a campaign whose only unit is gone, new buyers (answered 410 from memory)
#   d  already      intake, one buyer who already holds a reservation, over and over (409)
#   c-gw, b-gw      the sold-out and accept paths through the gateway (services/Seckill.Gateway) in front
#                   of the SAME one intake (gateway → 1 intake vs that intake directly; the gateway shares
#                   the two cores). Each request carries its own pre-minted token (`Seckill.LoadTest
#                   tokens`, read by purchase.lua): distinct buyers for accept; for sold-out a pool of
#                   20,000 reused with the per-buyer limit raised. The gateway warms up for --warm seconds
#                   on the sold-out path first; b-direct (the accept path directly, again) runs right
#                   before b-gw, so the ratio compares neighbours, not phases minutes apart
#   e  drain        one worker, no rate limit, from a queue pre-filled with --drain-orders purchases
#   f<R> drain @ R  one worker at R orders/s, from a queue pre-filled with R x 30 s (quick: 5 s) purchases
#   g  ingest       PostgreSQL's own ingest of order rows: pgbench, 2 clients, 200-row
#                   INSERT ... ON CONFLICT DO NOTHING per transaction into a copy of `orders` (the
#                   reference of the drain: what the database could take with no pipeline in front)
#
# Load tool: wrk from the OS packages (installed here when missing), ONE thread (-t1), pinned with
# taskset to the last core. See WRK below for why.
#
# Output: the markdown table on stdout; the table, the raw wrk outputs, the drain samples and the
# process logs in .local/bench/<timestamp>/. Everything this script starts is stopped on exit; the
# shared PostgreSQL/RabbitMQ/Redis keep running. The bench uses its own RabbitMQ virtual host and its
# own PostgreSQL database (both deleted at the end), so no other worker on this machine consumes its
# messages and its writes meet a fresh schema (not the tests' rows and fault triggers); it deletes the
# Redis keys of its campaigns at the end.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2154 # ConnectionStrings__Seckill, Seckill__*: from .local/seckill.env
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
LOCAL=$root/.local
# shellcheck source=lib/common.sh
. "$root/infra/lib/common.sh"   # say/note/warn/die, port_open, pid_alive, wait_pid_gone
# shellcheck source=bench/lib.sh
. "$root/infra/bench/lib.sh"    # export_pg_env, cpu_snapshot, cost_per_unit

# ------------------------------------------------------------------ arguments --
duration='' connections='' drain_orders='' rates='' quick=0 warm_seconds=
while (( $# )); do
  case $1 in
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    --connections) connections=${2:?--connections needs a number}; shift 2 ;;
    --drain-orders) drain_orders=${2:?--drain-orders needs a number}; shift 2 ;;
    --rates|--rate) rates=${2:?--rates needs orders per second, comma-separated}; shift 2 ;;
    --warm) warm_seconds=${2:?--warm needs seconds}; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '5,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
if (( quick )); then
  duration=${duration:-3} drain_orders=${drain_orders:-2000} rates=${rates:-7,100,1000}
  rate_seconds=5 warmup=1 warm_seconds=${warm_seconds:-3}
else
  duration=${duration:-15} drain_orders=${drain_orders:-100000} rates=${rates:-7,100,1000}
  rate_seconds=30 warmup=3 warm_seconds=${warm_seconds:-30}
fi
connections=${connections:-64}
for v in duration connections drain_orders warm_seconds; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v%_seconds} must be a positive whole number, not '${!v}'"
done
# A campaign holds at most 10,000,000 units (docs/api.md).
(( drain_orders <= 10000000 )) || die "--drain-orders is at most 10000000"
IFS=, read -r -a rate_list <<<"$rates"
for rate in "${rate_list[@]}"; do
  [[ $rate =~ ^[1-9][0-9]*$ ]] || die "--rates takes positive whole numbers separated by commas, not '$rates'"
  (( rate * rate_seconds <= 10000000 )) || die "--rates: $rate x ${rate_seconds}s is more than one campaign can hold"
done

run_id=$(date -u +%Y%m%dT%H%M%SZ)
out=$LOCAL/bench/$run_id
raw=$out/raw
mkdir -p "$raw"
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# ------------------------------------------------------------ process control --
rabbitmqctl() { bash "$root/infra/services.sh" rabbitmqctl "$@"; }
declare -A started=()   # pid -> what, for the EXIT trap
vhost=''
bench_db=''
campaigns=()
sampler_pid=''

stop_pid() { # PID WHAT: SIGTERM (graceful shutdown), SIGKILL only if it hangs
  local pid=$1
  [[ -n $pid ]] || return 0
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 20 || { warn "$2 (pid $pid) ignored SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  wait "$pid" 2>/dev/null || true
  unset "started[$pid]"
}

# Units left in Redis by the bench: every key of a campaign's shards carries {sk:<id N>:<shard>}.
delete_redis_keys() {
  local id var endpoint host port cursor reply
  (( ${#campaigns[@]} )) || return 0
  for var in "${!Seckill__Redis__Shards__@}"; do
    endpoint=${!var}
    [[ $endpoint =~ ^([^:,]+):([0-9]+)$ ]] || { note "skipping Redis cleanup of $var (not a plain host:port)"; continue; }
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
    for id in "${campaigns[@]}"; do
      # SCAN with a large COUNT (redis-cli 7.0's --scan has no --count): few round trips even when
      # the keyspace holds millions of other keys.
      cursor=0
      while :; do
        mapfile -t reply < <(redis-cli -h "$host" -p "$port" scan "$cursor" match "{sk:${id//-/}:*" count 10000) || break
        (( ${#reply[@]} )) || break
        cursor=${reply[0]}
        (( ${#reply[@]} > 1 )) && { redis-cli -h "$host" -p "$port" unlink "${reply[@]:1}" >/dev/null || true; }
        [[ $cursor == 0 ]] && break
      done
    done
  done
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  [[ -z $sampler_pid ]] || { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; }
  for pid in "${!started[@]}"; do stop_pid "$pid" "${started[$pid]}"; done
  if [[ -n $vhost ]]; then
    rabbitmqctl delete_vhost "$vhost" >/dev/null 2>&1 || warn "could not delete RabbitMQ vhost $vhost"
  fi
  if [[ -n $bench_db ]]; then
    PGDATABASE=$app_db psql -X -q -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 \
      || warn "could not drop PostgreSQL database $bench_db"
  fi
  delete_redis_keys
  (( rc == 0 )) || log "failed (exit $rc); logs and raw outputs in $out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { # first free TCP port on 127.0.0.1 from $1 up
  local port=$1
  while port_open "$port"; do port=$((port + 1)); done
  printf '%s\n' "$port"
}

# Each process runs from its own output folder: .NET takes appsettings.json from the current
# directory (the content root), and the intake's and worker's appsettings.json set the log levels
# they are meant to run with (no per-request logging). Started from the repo root they would log at
# Information for every request, and that is not what is being measured.
start_process() { # WHAT DIR DLL LOG [ENV=VALUE...] -> pid in $last_pid
  local what=$1 dir=$2 dll=$3 logfile=$4
  shift 4
  ( cd "$dir" && exec env "$@" dotnet "$dll" ) >"$logfile" 2>&1 &
  last_pid=$!
  started[$last_pid]=$what
}

peak_rss_mib() { # PID -> VmHWM (the process's peak resident set) in MiB
  # start_process's subshell execs dotnet, so the pid is the .NET process itself; make sure of it.
  [[ $(cat "/proc/$1/comm" 2>/dev/null) == dotnet ]] || die "pid $1 is not a running dotnet process"
  awk '/^VmHWM:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$1/status"
}

wait_until() { # SECONDS PID WHAT CMD...: polls CMD; fails when PID dies or time runs out
  local limit=$1 pid=$2 what=$3
  local deadline=$((SECONDS + limit))
  shift 3
  until "$@"; do
    pid_alive "$pid" || die "$what died; see its log in $out"
    (( SECONDS < deadline )) || die "$what not ready after ${limit}s; see its log in $out"
    sleep 0.3
  done
}

# ----------------------------------------------------------------------- wrk --
# WRK: -t1 because wrk runs its event loop on one thread per -t and the servers under test need the
# machine's cores: with -t2 wrk could take both of a 2-core machine and the numbers would measure the
# load tool. One wrk thread keeps up to 64 connections busy; taskset keeps it on one core so the
# scheduler does not bounce it across both. The "wrk CPU" column tells whether that one thread was
# saturated (~100%: then the baseline's rate is a floor, and its ratios are conservative for the intake).
if ! command -v wrk >/dev/null; then
  log "installing wrk from the OS packages"
  (( EUID == 0 )) || die "wrk is missing and installing it needs root (apt-get install -y wrk)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
ncpu=$(nproc)
pin=()
if command -v taskset >/dev/null && (( ncpu > 1 )); then pin=(taskset -c "$((ncpu - 1))"); fi
load_tool="wrk $( (wrk -v 2>&1 || true) | awk 'NR==1 { print $2 }') -t1${pin[*]:+, pinned to CPU $((ncpu - 1))}"
wrk2_bin=$(command -v wrk2 || true)

# --------------------------------------------------------------------- build --
log "building Release (intake, worker, gateway, baseline, load generator)"
for project in services/Seckill.Intake services/Seckill.Worker services/Seckill.Gateway tests/Seckill.Baseline tests/Seckill.LoadTest; do
  dotnet build -c Release -v quiet -nologo "$project" >"$raw/build-${project##*/}.txt" 2>&1 \
    || { cat "$raw/build-${project##*/}.txt" >&2; die "build of $project failed"; }
done
intake_dir=$root/services/Seckill.Intake/bin/Release/net10.0
worker_dir=$root/services/Seckill.Worker/bin/Release/net10.0
baseline_dir=$root/tests/Seckill.Baseline/bin/Release/net10.0
gateway_dir=$root/services/Seckill.Gateway/bin/Release/net10.0
loadtest_dll=$root/tests/Seckill.LoadTest/bin/Release/net10.0/Seckill.LoadTest.dll
# Server GC comes from Directory.Build.props; refuse to measure a build that lost it.
for f in "$intake_dir/Seckill.Intake" "$worker_dir/Seckill.Worker" "$gateway_dir/Seckill.Gateway" "$baseline_dir/Seckill.Baseline"; do
  grep -q '"System.GC.Server": true' "$f.runtimeconfig.json" || die "$f.runtimeconfig.json does not enable server GC"
done

# ------------------------------------------------------------------ services --
log "bringing the shared services up"
bash infra/services.sh up >"$raw/services-up.txt" 2>&1 || { cat "$raw/services-up.txt" >&2; die "infra/services.sh up failed"; }
set -a
# shellcheck disable=SC1091
. "$LOCAL/seckill.env"
set +a

export_pg_env "$ConnectionStrings__Seckill"
command -v pgbench >/dev/null || PATH=$PATH:/usr/lib/postgresql/15/bin
command -v pgbench >/dev/null || die "pgbench is missing (it comes with the PostgreSQL server packages)"

# ------------------------------------------------------------------ database --
# A database of its own: the shared one carries the tests' rows and the BEFORE INSERT fault triggers
# they install on `orders`, which cost every insert a function call and would be measured as the drain.
app_db=$PGDATABASE
bench_db=seckill_bench_${run_id,,}
log "PostgreSQL database $bench_db (dropped at the end)"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $bench_db" >"$raw/createdb.txt" 2>&1 \
  || { cat "$raw/createdb.txt" >&2; bench_db=''; die "could not create a database for the bench (the services' user needs CREATEDB)"; }
ConnectionStrings__Seckill=$(sed -E "s/(^|;)Database=[^;]*/\1Database=$bench_db/" <<<"$ConnectionStrings__Seckill")
export ConnectionStrings__Seckill PGDATABASE=$bench_db

# ------------------------------------------------------------------ helpers --
declare -A pg_rate=()
declare -A rps=() p50=() p99=() statuses=() wrk_cpu=() server_cpu=() rss=() orders=() detail=() queued=() messages=() also_us=()

# Runs wrk for one phase; raw output in raw/<name>.txt; parses the BENCH lines of purchase.lua.
# The load tool is "wrk" unless wrk_cmd says otherwise (wrk2 with -R for the half-rate phase).
# server_pid is the process under test: its CPU over the phase shows whether it was saturated
# (200% = both cores) or waiting on something else.
wrk_cmd=(wrk)
server_pid=''
# A second process whose CPU per request is recorded too (the intake behind the gateway): also_us[NAME].
also_pid=''
clock_ticks=$(getconf CLK_TCK)
declare -A budget=()
set_budget() { # NAME BEFORE AFTER COUNT [WRK_SECONDS] -> budget[NAME] = µs per unit: process broker redis postgres wrk machine
  local proc broker redis pg machine wrk=n/a
  read -r proc broker redis pg machine < <(cost_per_unit "$2" "$3" "$4")
  [[ -z ${5:-} ]] || wrk=$(awk -v w="$5" -v n="$4" 'BEGIN { printf "%.0f", w * 1e6 / n }')
  budget[$1]="$proc $broker $redis $pg $wrk $machine"
}
run_wrk() { # NAME URL CONNECTIONS SECONDS [SCRIPT ARGS...]
  local name=$1 url=$2 conns=$3 secs=$4 file=$raw/$1.txt line timing cpu snap_before snap_after also_before='' also_after=''
  shift 4
  local TIMEFORMAT='%R %U %S'
  [[ -z $also_pid ]] || also_before=$(cpu_ticks "$also_pid")
  snap_before=$(cpu_snapshot "$server_pid")
  # bash's `time` gives wrk's own CPU: ~100% means one wrk thread was the bottleneck, not the server.
  { time "${pin[@]}" "${wrk_cmd[@]}" -t1 -c "$conns" -d "${secs}s" --timeout 5s --latency \
      -s "$root/infra/bench/purchase.lua" "$url" -- "$@" >"$file" 2>&1; } 2>"$raw/$name.time" \
    || { cat "$file" >&2; die "wrk failed in phase $name"; }
  line=$(grep '^BENCH requests=' "$file") || die "wrk printed no summary in phase $name (see $file)"
  snap_after=$(cpu_snapshot "$server_pid")
  [[ -z $also_pid ]] || also_after=$(cpu_ticks "$also_pid")
  timing=$(<"$raw/$name.time")
  cpu=$(awk '{ printf "%.0f", ($2 + $3) / $1 * 100 }' <<<"$timing")
  eval "${line/#BENCH /local }"   # local requests=N duration_us=N p50_us=N … (purchase.lua prints numbers only)
  # shellcheck disable=SC2154
  if (( requests > 0 )); then
    set_budget "$name" "$snap_before" "$snap_after" "$requests" "$(awk '{ print $2 + $3 }' <<<"$timing")"
    [[ -z $also_pid ]] || also_us[$name]=$(awk -v a="$also_before" -v b="$also_after" -v n="$requests" -v hz="$clock_ticks" \
      'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / n }')
  fi
  # shellcheck disable=SC2154
  rps[$name]=$(awk -v n="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  # shellcheck disable=SC2154
  p50[$name]=$(awk -v v="$p50_us" 'BEGIN { printf "%.2f", v / 1000 }')
  # shellcheck disable=SC2154
  p99[$name]=$(awk -v v="$p99_us" 'BEGIN { printf "%.2f", v / 1000 }')
  statuses[$name]=$(sed -n 's/^BENCH statuses=//p' "$file")
  # shellcheck disable=SC2154
  if (( connect_errors + read_errors + write_errors + timeouts > 0 )); then
    statuses[$name]+=" (socket errors: connect $connect_errors, read $read_errors, write $write_errors, timeouts $timeouts)"
  fi
  wrk_cpu[$name]=$cpu
  server_cpu[$name]=$(awk -v t0="${snap_before%% *}" -v t1="${snap_after%% *}" -v hz="$clock_ticks" -v wall="${timing%% *}" \
    'BEGIN { printf "%.0f", (t1 - t0) / hz / wall * 100 }')
}

unexpected=()
expect_only() { # NAME STATUS: warn when a phase got answers other than the one it measures
  if ! [[ ${statuses[$1]} =~ ^$2:[0-9]+$ ]]; then
    warn "phase $1 expected only $2 answers, got: ${statuses[$1]}"
    unexpected+=("$1: ${statuses[$1]}")
  fi
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

create_campaign() { # NAME STOCK -> id on stdout
  local body id
  body=$(curl -sS --max-time 30 -X POST "$intake_url/api/campaigns" -H "X-Admin-Key: $Seckill__AdminKey" \
    -H 'Content-Type: application/json' -d "{\"name\":\"bench $run_id $1\",\"stock\":$2,\"shards\":4}") \
    || die "creating campaign $1 failed"
  id=$(grep -o '"id":"[0-9a-f-]*"' <<<"$body" | head -n1 | cut -d'"' -f4)
  [[ -n $id ]] || die "creating campaign $1 answered: $body"
  printf '%s\n' "$id"
}

virtual_stock() { # ID -> sum of the shards' virtual stock, read live from Redis by the intake; "?" if unknown
  local body
  body=$(curl -sS --max-time 10 "$intake_url/api/campaigns/$1" -H "X-Admin-Key: $Seckill__AdminKey" 2>/dev/null) || body=''
  grep -o '"virtualStock":-\{0,1\}[0-9]*' <<<"$body" | awk -F: '{ s += $2 } END { print NR ? s : "?" }'
}

queue_depth() { # messages (ready + unacknowledged) in seckill-orders of the bench vhost
  rabbitmqctl list_queues -q -p "$vhost" name messages 2>/dev/null | awk '$1 == "seckill-orders" { print $2 }'
}

buy() { # CAMPAIGN USER -> HTTP status
  http_code -X POST "$intake_url/api/campaigns/$1/purchases" -H "X-User-Id: $2"
}

# Pre-fills the queue the way production does: buyers through the intake while no worker consumes
# the bench vhost. wrk cannot stop after N requests (it always runs for -d), so it runs in the
# background and is stopped with SIGINT (it still prints its summary) once the campaign's virtual
# stock is 0, i.e. every unit is reserved; then the queue must hold exactly that many messages.
fill_queue() { # NAME COUNT -> campaign id in $fill_campaign, messages in $fill_depth
  local name=$1 count=$2 id wrk_pid deadline depth previous='' stable=0
  id=$(create_campaign "$name" "$count")
  campaigns+=("$id")
  log "phase $name: filling the queue with $count purchases"
  "${pin[@]}" wrk -t1 -c "$connections" -d 3600s --timeout 5s --latency -s "$root/infra/bench/purchase.lua" \
    "$intake_url/api/campaigns/$id/purchases" -- mode=distinct "prefix=$name$run_id" >"$raw/$name-fill.txt" 2>&1 &
  wrk_pid=$!
  started[$wrk_pid]="wrk ($name fill)"
  deadline=$((SECONDS + 120 + count / 100))
  until [[ $(virtual_stock "$id") == 0 ]]; do
    pid_alive "$wrk_pid" || die "wrk stopped during the $name fill (see $raw/$name-fill.txt)"
    pid_alive "$intake_pid" || die "the intake died during the $name fill"
    (( SECONDS < deadline )) || die "the $name fill did not sell $count units in time"
    sleep 0.5
  done
  kill -INT "$wrk_pid"
  wait "$wrk_pid" || true
  unset "started[$wrk_pid]"
  # Every unit is reserved and every 202 was answered after its message's confirm; group commit puts
  # many purchases in one message, so the queue holds fewer messages than purchases. What must hold:
  # no token is still waiting for its confirm (each shard's pending counter counts reserved + queued).
  deadline=$((SECONDS + 30))
  while :; do
    depth=$(queue_depth)
    # The broker's queue statistics lag a moment behind a fill: an empty queue is not yet "settled".
    if [[ -n $depth && $depth != 0 && $depth == "$previous" ]]; then stable=$((stable + 1)); else stable=0; fi
    previous=$depth
    (( stable >= 2 )) && break
    if (( SECONDS >= deadline )); then
      warn "phase $name: the queue depth did not settle (${depth:-?} messages)"
      unexpected+=("$name fill: queue depth ${depth:-?} unsettled")
      break
    fi
    sleep 1
  done
  log "phase $name: $count purchases queued in ${depth:-?} messages"
  messages[$name]=${depth:-?}
  depth=$count
  fill_campaign=$id
  fill_depth=${depth:-0}
  queued[$name]=$fill_depth
  detail[$name-fill]="$(sed -n 's/^BENCH statuses=//p' "$raw/$name-fill.txt")"
}

# Starts one worker on the pre-filled queue and follows `sold` of the campaign through one psql
# session (\watch 0.2: one connection, PostgreSQL's own clock) until it reaches the target.
# orders/s is the slope between the first and the last sample strictly between 0 and the target,
# i.e. the steady rate once the first batch committed, without the worker's start-up; the wall time
# from the process start to the last order is kept in the notes.
measure_drain() { # NAME CAMPAIGN TARGET MAX_ORDERS_PER_SECOND
  local name=$1 id=$2 target=$3 limit=$4 samples=$raw/$1-sold.txt worker_pid start limit_s deadline sold
  local snap_before='' sold_before=0
  log "phase $name: draining $target orders with one worker (MaxOrdersPerSecond=$limit)"
  start=$(date +%s.%N)
  # Sweeper.PendingTimeout 1 day: nothing for the sweeper to publish during a measure.
  start_process "worker ($name)" "$worker_dir" Seckill.Worker.dll "$out/worker-$name.log" \
    DOTNET_ENVIRONMENT=Production \
    "Seckill__Worker__MaxOrdersPerSecond=$limit" \
    'Seckill__Sweeper__PendingTimeout=1.00:00:00'
  worker_pid=$last_pid
  psql -X -q -tA -F' ' >"$samples" 2>"$raw/$name-psql.err" <<<"SELECT sold, extract(epoch FROM clock_timestamp()) FROM campaigns WHERE id = '$id' \\watch 0.2" &
  sampler_pid=$!
  limit_s=$((120 + target / 200))
  deadline=$((SECONDS + limit_s))
  while :; do
    sold=$(tail -n1 "$samples" 2>/dev/null | awk '{ print $1 }')
    [[ ${sold:-0} -ge $target ]] && break
    # The budget counts from the first orders on, i.e. without the worker's start-up.
    if [[ -z $snap_before ]] && (( ${sold:-0} > 0 )); then
      snap_before=$(cpu_snapshot "$worker_pid") sold_before=$sold
    fi
    pid_alive "$worker_pid" || die "worker ($name) died; see $out/worker-$name.log"
    pid_alive "$sampler_pid" || die "the psql sampler stopped; see $raw/$name-psql.err"
    (( SECONDS < deadline )) || die "phase $name: sold is ${sold:-?} of $target after ${limit_s}s"
    sleep 0.2
  done
  rss[$name]=$(peak_rss_mib "$worker_pid")
  if [[ -n $snap_before ]] && (( sold > sold_before )); then
    set_budget "$name" "$snap_before" "$(cpu_snapshot "$worker_pid")" $((sold - sold_before))
  fi
  # The worker's CPU averaged over its whole life (start-up included), % of one core.
  server_cpu[$name]=$(awk -v ticks="$(cpu_ticks "$worker_pid")" -v hz="$clock_ticks" -v start="$start" -v now="$(date +%s.%N)" \
    'BEGIN { printf "%.0f", ticks / hz / (now - start) * 100 }')
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=''
  stop_pid "$worker_pid" "worker ($name)"
  read -r "orders[$name]" "detail[$name]" < <(awk -v t="$target" -v start="$start" '
    $1 > 0 && $1 < t { if (!n++) { s0 = $1; t0 = $2 } s1 = $1; t1 = $2 }
    $1 >= t && !done { done = $2 }
    END {
      if (n >= 2 && t1 > t0) rate = (s1 - s0) / (t1 - t0); else rate = t / (done - start)
      printf "%.0f wall_%.1fs_from_process_start_to_last_order\n", rate, done - start
    }' "$samples")
  # A second opinion from the rows themselves: orders written between the first and the last
  # transaction's timestamp (the worker stamps a batch's orders with one time).
  pg_rate[$name]=$(psql -X -tA -c "SELECT CASE WHEN max(created_at) > min(created_at) THEN round((count(*) - count(*) FILTER (WHERE created_at = (SELECT min(created_at) FROM orders WHERE campaign_id = '$id'))) / extract(epoch FROM max(created_at) - min(created_at))) END FROM orders WHERE campaign_id = '$id'")
}

# ------------------------------------------------------------------- vhost --
vhost=seckill-bench-$run_id
log "RabbitMQ vhost $vhost (deleted at the end)"
rabbitmqctl add_vhost "$vhost" >/dev/null
rabbitmqctl set_permissions -p "$vhost" "$Seckill__RabbitMq__Username" '.*' '.*' '.*' >/dev/null
export Seckill__RabbitMq__VirtualHost=$vhost

# ---------------------------------------------------------------- a: baseline --
baseline_port=$(free_port 5190)
baseline_url=http://127.0.0.1:$baseline_port
log "phase a: baseline on $baseline_url"
start_process baseline "$baseline_dir" Seckill.Baseline.dll "$out/baseline.log" \
  ASPNETCORE_ENVIRONMENT=Production "ASPNETCORE_URLS=$baseline_url"
baseline_pid=$last_pid
server_pid=$baseline_pid
# Same URL length as the intake's: a campaign id is a GUID in D format.
baseline_target=$baseline_url/api/campaigns/$(cat /proc/sys/kernel/random/uuid)/purchases
baseline_ready() { [[ $(http_code -X POST "$baseline_target" -H 'X-User-Id: probe') == 202 ]]; }
wait_until 60 "$baseline_pid" baseline baseline_ready
run_wrk a-warmup "$baseline_target" "$connections" "$warm_seconds" mode=distinct "prefix=aw$run_id"
run_wrk a "$baseline_target" "$connections" "$duration" mode=distinct "prefix=a$run_id"
expect_only a 202
rss[a]=$(peak_rss_mib "$baseline_pid")
stop_pid "$baseline_pid" baseline

# ------------------------------------------------------------------- intake --
intake_port=$(free_port $((baseline_port + 1)))
intake_url=http://127.0.0.1:$intake_port
log "starting the intake on $intake_url (vhost $vhost, no worker)"
start_process intake "$intake_dir" Seckill.Intake.dll "$out/intake.log" \
  ASPNETCORE_ENVIRONMENT=Production "ASPNETCORE_URLS=$intake_url"
intake_pid=$last_pid
server_pid=$intake_pid
intake_ready() { [[ $(http_code "$intake_url/health") == 200 ]]; }
wait_until 90 "$intake_pid" intake intake_ready

# ------------------------------------------------------------------ b: accept --
# Stock far above what the phase can sell (the API's maximum), so every request takes the full path:
# Redis reservation + confirmed publish.
accept_id=$(create_campaign accept 10000000)
campaigns+=("$accept_id")
accept_url=$intake_url/api/campaigns/$accept_id/purchases
# A sale's first seconds meet a freshly started intake whose code has not been tiered up yet, so
# the accept path is measured twice: cold, straight after start-up, and warm, after --warm seconds
# of load (tiered compilation with dynamic PGO needs tens of seconds under load on two cores).
log "phase b-cold: accept path on the fresh intake"
run_wrk b-cold "$accept_url" "$connections" "$duration" mode=distinct "prefix=bc$run_id"
expect_only b-cold 202
rss[b-cold]=$(peak_rss_mib "$intake_pid")
log "phase b: accept path after ${warm_seconds}s more of warm-up"
run_wrk b-warmup "$accept_url" "$connections" "$warm_seconds" mode=distinct "prefix=bw$run_id"
run_wrk b "$accept_url" "$connections" "$duration" mode=distinct "prefix=b$run_id"
expect_only b 202
rss[b]=$(peak_rss_mib "$intake_pid")

# "p99 at half its peak rate": wrk is closed-loop (each connection sends when its previous answer
# arrived), so by itself it always runs at the maximum. wrk2 -R (open loop, latency corrected for
# coordinated omission) is used when installed; Debian ships only wrk, so otherwise purchase.lua
# paces wrk to half of b's requests/s with a fixed send schedule (rate=, via wrk's delay()) over the
# same connections. Then latency counts from each actual send, not from its scheduled time (no
# coordinated-omission correction): a stalled server shows up as a lower rate reached, printed in
# the row and in the targets, rather than as latency.
half_rate=$(( rps[b] / 2 > 0 ? rps[b] / 2 : 1 ))
log "phase b½: accept path paced to $half_rate requests/s"
if [[ -n $wrk2_bin ]]; then
  half_how="wrk2 -R $half_rate (open loop, $connections connections)"
  wrk_cmd=("$wrk2_bin" -R "$half_rate")
  run_wrk b-half "$accept_url" "$connections" "$duration" mode=distinct "prefix=bh$run_id"
  wrk_cmd=(wrk)
else
  half_how="wrk paced by purchase.lua to $half_rate/s, $connections connections"
  run_wrk b-half "$accept_url" "$connections" "$duration" mode=distinct "prefix=bh$run_id" "rate=$half_rate"
fi
expect_only b-half 202
rss[b-half]=$(peak_rss_mib "$intake_pid")

# A quiet sale: 100 purchases/s, so nothing waits for anything but its own round trips.
log "phase b-low: accept path at 100 purchases/s"
run_wrk b-low "$accept_url" 4 "$duration" mode=distinct "prefix=bl$run_id" rate=100
expect_only b-low 202
rss[b-low]=$(peak_rss_mib "$intake_pid")

# ---------------------------------------------------------------- c: sold out --
soldout_id=$(create_campaign sold-out 1)
campaigns+=("$soldout_id")
[[ $(buy "$soldout_id" "c-first-$run_id") == 202 ]] || die "could not buy the only unit of the sold-out campaign"
log "phase c: sold-out path"
run_wrk c-warmup "$intake_url/api/campaigns/$soldout_id/purchases" "$connections" "$warmup" mode=distinct "prefix=cw$run_id"
run_wrk c "$intake_url/api/campaigns/$soldout_id/purchases" "$connections" "$duration" mode=distinct "prefix=c$run_id"
expect_only c 410
rss[c]=$(peak_rss_mib "$intake_pid")

# ----------------------------------------------------------- d: already bought --
already_id=$(create_campaign already 1000)
campaigns+=("$already_id")
buyer=d-buyer-$run_id
[[ $(buy "$already_id" "$buyer") == 202 ]] || die "the already-purchased buyer's first purchase failed"
log "phase d: already-purchased path"
run_wrk d-warmup "$intake_url/api/campaigns/$already_id/purchases" "$connections" "$warmup" mode=fixed "prefix=$buyer"
run_wrk d "$intake_url/api/campaigns/$already_id/purchases" "$connections" "$duration" mode=fixed "prefix=$buyer"
expect_only d 409
rss[d]=$(peak_rss_mib "$intake_pid")

# ------------------------------------------------------------- gateway phases --
# The same intake behind the gateway: one intake either way, so the ratio is the gateway's price alone.
# Tokens are minted here, between phases: RS256 signing costs more CPU than the gateway spends per
# request, and minting during a phase would be measured as the gateway's.
mint_tokens() { # NAME COUNT PREFIX -> file $raw/NAME.tokens; what it took in detail[NAME]
  dotnet "$loadtest_dll" tokens --count "$2" --prefix "$3" --out "$raw/$1.tokens" 2>"$raw/$1-mint.txt" \
    || { cat "$raw/$1-mint.txt" >&2; die "minting tokens ($1) failed"; }
  detail[$1]=$(sed -n 's/^tokens: \(.*\) → .*/\1/p' "$raw/$1-mint.txt")
  log "$1: ${detail[$1]}"
}
# Enough distinct buyers for b-gw at the direct rate plus 10 %: a wrapped-around token would be a
# buyer who already bought (409), which expect_only reports.
gw_pool=20000
gw_warm_tokens=$(( rps[b] * warmup * 11 / 10 + 1000 ))
gw_accept_tokens=$(( rps[b] * duration * 11 / 10 + 1000 ))
log "minting tokens for the gateway phases ($gw_pool + $gw_warm_tokens + $gw_accept_tokens)"
mint_tokens gw-pool "$gw_pool" "gp$run_id-"
mint_tokens gw-warm "$gw_warm_tokens" "gw$run_id-"
mint_tokens gw-accept "$gw_accept_tokens" "ga$run_id-"

gateway_port=$(free_port $((intake_port + 1)))
gateway_url=http://127.0.0.1:$gateway_port
log "starting the gateway on $gateway_url → $intake_url (per-buyer limit raised for the sold-out pool)"
start_process gateway "$gateway_dir" Seckill.Gateway.dll "$out/gateway.log" \
  ASPNETCORE_ENVIRONMENT=Production "ASPNETCORE_URLS=$gateway_url" "Seckill__Gateway__Intakes__0=$intake_url" \
  Seckill__Gateway__PurchasesPerSecond=100000 Seckill__Gateway__PurchaseBurst=100000
gateway_pid=$last_pid
gateway_ready() { [[ $(http_code "$gateway_url/health/ready") == 200 ]]; }
wait_until 60 "$gateway_pid" gateway gateway_ready
server_pid=$gateway_pid also_pid=$intake_pid

log "phase c-gw: sold-out path through the gateway, after ${warm_seconds}s of warm-up on it"
run_wrk c-gw-warmup "$gateway_url/api/campaigns/$soldout_id/purchases" "$connections" "$warm_seconds" mode=distinct "tokens=$raw/gw-pool.tokens"
run_wrk c-gw "$gateway_url/api/campaigns/$soldout_id/purchases" "$connections" "$duration" mode=distinct "tokens=$raw/gw-pool.tokens"
expect_only c-gw 410
rss[c-gw]=$(peak_rss_mib "$gateway_pid")

log "phase b-direct: accept path directly again, as b-gw's neighbour"
server_pid=$intake_pid also_pid=''
run_wrk b-direct "$accept_url" "$connections" "$duration" mode=distinct "prefix=bd$run_id"
expect_only b-direct 202
rss[b-direct]=$(peak_rss_mib "$intake_pid")

log "phase b-gw: accept path through the gateway"
server_pid=$gateway_pid also_pid=$intake_pid
run_wrk b-gw-warmup "$gateway_url/api/campaigns/$accept_id/purchases" "$connections" "$warmup" mode=distinct "tokens=$raw/gw-warm.tokens"
run_wrk b-gw "$gateway_url/api/campaigns/$accept_id/purchases" "$connections" "$duration" mode=distinct "tokens=$raw/gw-accept.tokens"
expect_only b-gw 202
rss[b-gw]=$(peak_rss_mib "$gateway_pid")
rss[gateway]=${rss[b-gw]}
server_pid=$intake_pid also_pid=''
stop_pid "$gateway_pid" gateway

# The HTTP phases left their SeckillAccepted in the bench queue (no worker ran); the drains must
# start from a queue holding only their own campaign's messages.
rabbitmqctl purge_queue -p "$vhost" seckill-orders >/dev/null

# ---------------------------------------------------------- e: unlimited drain --
fill_queue e "$drain_orders"
measure_drain e "$fill_campaign" "$fill_depth" 0

# ------------------------------------------------------ f: rate-limited drains --
for rate in "${rate_list[@]}"; do
  fill_queue "f$rate" $(( rate * rate_seconds ))
  measure_drain "f$rate" "$fill_campaign" "$fill_depth" "$rate"
done
rss[intake]=$(peak_rss_mib "$intake_pid")
stop_pid "$intake_pid" intake

# --------------------------------------------------- g: PostgreSQL's own ingest --
# The drain's reference: order rows written by PostgreSQL's own load tool into a copy of `orders`
# (same columns and indexes, no foreign key), 200 rows per transaction, 2 clients, nothing else running.
log "phase g: PostgreSQL ingest of order rows (pgbench, 2 clients, 200 rows per transaction)"
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE TABLE ingest_orders (LIKE orders INCLUDING ALL)' >/dev/null
cat >"$raw/g-ingest.sql" <<'SQL'
INSERT INTO ingest_orders (id, reservation_id, campaign_id, user_id, shard, created_at)
SELECT gen_random_uuid(), gen_random_uuid(), '00000000-0000-0000-0000-00000000000b', gen_random_uuid()::text, g % 4, now()
FROM generate_series(1, 200) AS g
ON CONFLICT DO NOTHING;
SQL
snap_before=$(cpu_snapshot $$)
pgbench -n -c 2 -j 2 -T "$duration" -f "$raw/g-ingest.sql" >"$raw/g.txt" 2>&1 || { cat "$raw/g.txt" >&2; die "pgbench failed"; }
g_rows=$(psql -X -tA -c 'SELECT count(*) FROM ingest_orders')
set_budget g "$snap_before" "$(cpu_snapshot $$)" "$g_rows"
g_tps=$(awk '/^tps = / { print $3; exit }' "$raw/g.txt")
ingest=$(awk -v t="$g_tps" 'BEGIN { printf "%.0f", t * 200 }')

# ---------------------------------------------------------------------- table --
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", a / b * 100 }'; }
yes_no() { awk "BEGIN { exit !($1) }" && echo yes || echo NO; }
log_issues() { # LOG -> counts of .NET console log lines worth a look
  local w f skipped
  w=$(grep -c '^warn:' "$1" || true); f=$(grep -cE '^(fail|crit):' "$1" || true)
  # A worker logs this for a reservation that got no order (token expired/failed); a drain should have none.
  skipped=$(grep -c 'no order is written' "$1" || true)
  printf '%s warn, %s fail/crit%s' "$w" "$f" "$( (( skipped == 0 )) || printf ', %s reservations without order' "$skipped")"
}

budget[g]="n/a ${budget[g]#* }"   # pgbench runs as children of this script: its own CPU is in "machine"
deviation() { awk -v o="$1" -v r="$2" 'BEGIN { printf "%+.1f%%", (o - r) / r * 100 }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
rss_all="baseline ${rss[a]}, intake ${rss[intake]}, gateway ${rss[gateway]}, worker e ${rss[e]}"
rss_ok="${rss[a]} <= 300 && ${rss[intake]} <= 300 && ${rss[gateway]} <= 300 && ${rss[e]} <= 300"
for rate in "${rate_list[@]}"; do rss_all+=", worker f$rate ${rss[f$rate]}"; rss_ok+=" && ${rss[f$rate]} <= 300"; done
{
  printf '# Seckill benchmark %s\n\n' "$run_id"
  printf -- '- commit %s%s; %s cores, %s GiB RAM; %s\n' "$(git rev-parse --short HEAD)" \
    "$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')" "$ncpu" \
    "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(dotnet --version | sed 's/^/.NET SDK /')"
  printf -- '- Release builds, server GC; load tool: %s, %s connections, %s s per phase; warm-up %s s for a and b, %s s for c and d, none for b-cold\n' \
    "$load_tool" "$connections" "$duration" "$warm_seconds" "$warmup"
  printf -- '- p50/p99: wrk latency from send to answer; peak RSS: VmHWM of the process (intake: cumulative up to the end of the phase)\n'
  printf -- '- server CPU: the process under test over the phase, %% of one core (200%% = both); wrk CPU: the load tool (100%% = its one thread saturated)\n'
  printf -- '- orders/s: slope of campaigns.sold between the first and last sample strictly between 0 and the target (steady rate, without start-up);\n'
  printf -- '  "rows" = the same from the order rows'"'"' timestamps (orders after the first batch ÷ time from the first to the last batch)\n\n'
  printf '| phase | what | requests/s | p50 ms | p99 ms | vs baseline | orders/s | peak RSS MiB | answers / notes | server CPU | wrk CPU |\n'
  printf '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n'
  row() { # PHASE WHAT
    printf '| %s | %s | %s | %s | %s | %s | n/a | %s (%s) | %s | %s%% | %s%% |\n' "$1" "$2" "${rps[$1]}" "${p50[$1]}" "${p99[$1]}" \
      "$(ratio "${rps[$1]}" "${rps[a]}")" "${rss[$1]}" "$3" "${statuses[$1]}" "${server_cpu[$1]}" "${wrk_cpu[$1]}"
  }
  row a "baseline: bare Kestrel, same 202 body" baseline
  row b-cold "accept path, fresh intake (cold: no warm-up)" intake
  row b "accept path, new buyer per request (warm)" intake
  row b-half "accept path at ½ of b's rate: $half_how" intake
  row b-low "accept path at 100 purchases/s (4 connections)" intake
  row c "sold-out path (410)" intake
  row d "already-purchased path (409)" intake
  row c-gw "sold-out path through the gateway → the same one intake (pool of $gw_pool tokens)" gateway
  row b-direct "accept path directly again (b-gw's neighbour)" intake
  row b-gw "accept path through the gateway → the same one intake (a new token per request)" gateway
  printf '| e | drain, 1 worker, no rate limit, %s purchases queued in %s messages | n/a | n/a | n/a | n/a | %s (rows %s) | %s (worker) | %s | %s%% (life) | n/a |\n' \
    "${queued[e]}" "${messages[e]}" "${orders[e]}" "${pg_rate[e]:-?}" "${rss[e]}" "${detail[e]//_/ }" "${server_cpu[e]}"
  for rate in "${rate_list[@]}"; do
    printf '| f%s | drain, 1 worker, MaxOrdersPerSecond=%s, %s purchases queued in %s messages | n/a | n/a | n/a | n/a | %s (%s; rows %s) | %s (worker) | %s | %s%% (life) | n/a |\n' \
      "$rate" "$rate" "${queued[f$rate]}" "${messages[f$rate]}" "${orders[f$rate]}" "$(deviation "${orders[f$rate]}" "$rate")" \
      "${pg_rate[f$rate]:-?}" "${rss[f$rate]}" "${detail[f$rate]//_/ }" "${server_cpu[f$rate]}"
  done
  printf '| g | PostgreSQL ingest: pgbench, 2 clients, 200-row INSERT ... ON CONFLICT DO NOTHING into a copy of orders | n/a | n/a | n/a | n/a | %s rows/s (%s tps; %s rows) | n/a | reference of e | n/a | n/a |\n' \
    "$ingest" "$g_tps" "$g_rows"
  printf '\nintake peak RSS over the whole run (incl. the queue fills): %s MiB\n\n' "${rss[intake]}"
  printf 'CPU budget: CPU time per request (a-d) or per order (e, f, g) in µs, by process, over the measured phase;\n'
  printf 'machine = all CPU time of the machine (every process, kernel included); ceiling = %s cores / machine µs,\n' "$ncpu"
  printf 'the rate at which this machine would be 100%% busy at that cost.\n\n'
  printf '| phase | process under test | RabbitMQ | Redis (all) | PostgreSQL | wrk | machine | ceiling /s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n'
  for phase in a b-cold b b-half b-low c d c-gw b-direct b-gw e "${rate_list[@]/#/f}" g; do
    [[ -n ${budget[$phase]:-} ]] || continue
    read -r u_proc u_broker u_redis u_pg u_wrk u_machine <<<"${budget[$phase]}"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$phase" "$u_proc" "$u_broker" "$u_redis" "$u_pg" "$u_wrk" "$u_machine" \
      "$(awk -v m="$u_machine" -v n="$ncpu" 'BEGIN { printf "%.0f", (m > 0 ? n * 1e6 / m : 0) }')"
  done
  printf '\nThe gateway'"'"'s price (c-gw, b-gw: "process under test" above is the gateway), µs of CPU per request:\n\n'
  printf '| path | gateway | intake behind it | intake directly | machine via gateway | machine directly | machine added |\n|---|---:|---:|---:|---:|---:|---:|\n'
  gw_row() { # PATH GW_PHASE DIRECT_PHASE
    local g_proc d_proc g_machine d_machine
    read -r g_proc _ _ _ _ g_machine <<<"${budget[$2]}"
    read -r d_proc _ _ _ _ d_machine <<<"${budget[$3]}"
    printf '| %s | %s | %s | %s (%s) | %s | %s | %s |\n' "$1" "$g_proc" "${also_us[$2]:-?}" "$d_proc" "$3" "$g_machine" "$d_machine" \
      "$(awk -v a="$g_machine" -v b="$d_machine" 'BEGIN { printf "%+d", a - b }')"
  }
  gw_row "sold-out (410)" c-gw c
  gw_row "accept (202)" b-gw b-direct
  printf '\nTokens minted before the gateway phases (RS256): pool %s; warm-up %s; b-gw %s\n\n' "${detail[gw-pool]}" "${detail[gw-warm]}" "${detail[gw-accept]}"
  printf '| target (ratios measured in this run) | measured | met |\n|---|---|---|\n'
  printf '| accept ≥ 0.45 × already-purchased path (aim 0.65) | %s × (%s ÷ %s req/s) | %s |\n' "$(times "${rps[b]}" "${rps[d]}")" \
    "${rps[b]}" "${rps[d]}" "$(yes_no "${rps[b]} >= 0.45 * ${rps[d]}")"
  printf '| accept ≥ 0.12 × bare Kestrel | %s × (%s ÷ %s req/s) | %s |\n' "$(times "${rps[b]}" "${rps[a]}")" \
    "${rps[b]}" "${rps[a]}" "$(yes_no "${rps[b]} >= 0.12 * ${rps[a]}")"
  printf '| drain ≥ 0.2 × PostgreSQL ingest, one worker (aim 0.3) | %s × (%s ÷ %s rows/s) | %s |\n' "$(times "${orders[e]}" "$ingest")" \
    "${orders[e]}" "$ingest" "$(yes_no "${orders[e]} >= 0.2 * $ingest")"
  printf '| accept p50 ≤ 3 ms at 100 purchases/s | %s ms at %s req/s | %s |\n' "${p50[b-low]}" "${rps[b-low]}" "$(yes_no "${p50[b-low]} <= 3")"
  printf '| accept p99 ≤ 20 ms at ½ the maximum accept rate | %s ms at %s req/s (%s of b) | %s |\n' "${p99[b-half]}" "${rps[b-half]}" \
    "$(ratio "${rps[b-half]}" "${rps[b]}")" "$(yes_no "${p99[b-half]} <= 20")"
  for rate in "${rate_list[@]}"; do
    printf '| rate-limited drain within ±5%% of %s/s | %s (%s) | %s |\n' "$rate" "${orders[f$rate]}" "$(deviation "${orders[f$rate]}" "$rate")" \
      "$(yes_no "${orders[f$rate]} >= 0.95 * $rate && ${orders[f$rate]} <= 1.05 * $rate")"
  done
  printf '| accept through the gateway ≥ 0.6 × accept directly, same one intake (aim 0.8) | %s × (b-gw %s ÷ b-direct %s req/s; ÷ b %s: %s ×) | %s |\n' \
    "$(times "${rps[b-gw]}" "${rps[b-direct]}")" "${rps[b-gw]}" "${rps[b-direct]}" "${rps[b]}" "$(times "${rps[b-gw]}" "${rps[b]}")" \
    "$(yes_no "${rps[b-gw]} >= 0.6 * ${rps[b-direct]}")"
  printf '| (no target) sold-out through the gateway ÷ directly | %s × (c-gw %s ÷ c %s req/s) | n/a |\n' \
    "$(times "${rps[c-gw]}" "${rps[c]}")" "${rps[c-gw]}" "${rps[c]}"
  printf '| peak RSS ≤ 300 MiB per process | %s | %s |\n' "$rss_all" "$(yes_no "$rss_ok")"
  printf '\nqueue fills (answers): e %s' "${detail[e-fill]}"
  for rate in "${rate_list[@]}"; do printf '; f%s %s' "$rate" "${detail[f$rate-fill]}"; done
  printf '\nlogs: intake %s; worker e %s' "$(log_issues "$out/intake.log")" "$(log_issues "$out/worker-e.log")"
  for rate in "${rate_list[@]}"; do printf '; worker f%s %s' "$rate" "$(log_issues "$out/worker-f$rate.log")"; done
  printf '; gateway %s; baseline %s\n' "$(log_issues "$out/gateway.log")" "$(log_issues "$out/baseline.log")"
  if (( ${#unexpected[@]} )); then printf 'UNEXPECTED: %s\n' "${unexpected[*]}"; fi
} | tee "$out/table.md"
log "done: $out"
