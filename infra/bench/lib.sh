# shellcheck shell=bash
# Helpers shared by infra/bench.sh and the A/B cost scripts (sourced; define functions only).

# psql gets the services' connection string as PG* variables (the password never reaches a command line).
export_pg_env() { # CONNECTION_STRING
  local key value
  while IFS='=' read -r key value; do
    case $key in
      Host) export PGHOST=$value ;; Port) export PGPORT=$value ;; Database) export PGDATABASE=$value ;;
      Username) export PGUSER=$value ;; Password) export PGPASSWORD=$value ;;
    esac
  done < <(tr ';' '\n' <<<"$1")
  command -v psql >/dev/null || PATH=$PATH:/usr/lib/postgresql/15/bin
}

# CPU budget: where the machine's CPU goes per request (or per order), in clock ticks of /proc.
# A process named beam.smp / redis-server / postgres is counted as the broker / Redis / PostgreSQL
# (the local default runs them on this machine); PostgreSQL backends that exit between two
# snapshots are missed, the pooled ones the services use are not. machine = user + nice + system +
# irq + softirq of /proc/stat over all cores, so it includes everything, the load tool too.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime of a process
service_ticks() { # NAME -> summed utime + stime of every process with exactly that name
  local pid t=0 v
  for pid in $(pgrep -x "$1" || true); do
    v=$(cpu_ticks "$pid" 2>/dev/null) || v=0
    t=$((t + v))
  done
  printf '%s\n' "$t"
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
cpu_snapshot() { # PID -> "process broker redis postgres machine" ticks
  printf '%s %s %s %s %s\n' "$(cpu_ticks "$1")" "$(service_ticks beam.smp)" "$(service_ticks redis-server)" \
    "$(service_ticks postgres)" "$(machine_ticks)"
}
cost_per_unit() { # BEFORE AFTER COUNT -> "process broker redis postgres machine" µs of CPU per unit
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= 5; i++) printf "%s%.0f", (i > 1 ? " " : ""), (y[i] - x[i]) / hz * 1e6 / n
    printf "\n" }'
}
