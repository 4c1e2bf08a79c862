# shellcheck shell=bash
# Shared helpers for infra/services.sh (sourced, not executed).

say()  { printf '%s\n' "$*"; }
note() { printf 'note: %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

require_port() { # NAME VALUE
  [[ $2 =~ ^[0-9]+$ ]] && (( $2 >= 1 && $2 <= 65535 )) || die "$1=$2 is not a valid TCP port"
}

# A plain TCP connect instead of ss/netstat: it needs nothing installed, and
# it also catches listeners on 0.0.0.0, which would collide with our bind.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fails with the port and the variable to change, so the fix is obvious.
ensure_port_free() { # PORT ENV_VAR WHAT [HINT]
  port_open "$1" || return 0
  local who=''
  if command -v ss >/dev/null; then
    who=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*' | head -n1 | cut -c9- || true)
  fi
  printf 'error: %s: port %s on 127.0.0.1 is already in use by a process this script did not start%s.\n' \
    "$3" "$1" "${who:+ ($who)}" >&2
  printf '       Stop that process, or pick another port, e.g.: export %s=<free port>\n' "$2" >&2
  [[ -z ${4:-} ]] || printf '       %s\n' "$4" >&2
  exit 1
}

# kill -0 is not enough: this machine's PID 1 may not reap orphans, and a
# zombie still answers kill -0 long after the server is gone.
pid_alive() {
  local state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# "Ours" = alive, the expected program, and started for OUR data directory;
# guards against pid reuse and against another checkout's servers.
pid_is() { # PID COMM NEEDLE_IN_CMDLINE
  local comm cmd
  pid_alive "$1" || return 1
  comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
  [[ $comm == "$2" ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$3"* ]]
}

read_pidfile() { # FILE -> pid on stdout, or nothing
  local pid=''
  [[ -r $1 ]] && read -r pid <"$1" 2>/dev/null || true
  [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
  return 0
}

# Polls CMD until it succeeds. Returns 1 on timeout, 2 as soon as WATCH_PID
# (the process being started; "" = none) dies, so a crash fails fast.
wait_for() { # TIMEOUT_S WATCH_PID CMD...
  local deadline=$((SECONDS + $1)) watch=$2
  shift 2
  while :; do
    "$@" && return 0
    [[ -z $watch ]] || pid_alive "$watch" || { "$@" && return 0; return 2; }
    (( SECONDS < deadline )) || return 1
    sleep 0.3
  done
}

wait_pid_gone() { # PID TIMEOUT_S
  local deadline=$((SECONDS + $2))
  while pid_alive "$1"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

# Graceful stop already requested; escalate to SIGTERM only if the server
# ignores it, and never SIGKILL (that risks the data we are keeping).
reap_or_term() { # PID WHAT TIMEOUT_S
  wait_pid_gone "$1" "$3" && return 0
  warn "$2: still running after $3 s, sending SIGTERM to pid $1"
  kill -TERM "$1" 2>/dev/null || true
  wait_pid_gone "$1" 20 || die "$2: pid $1 did not exit; stop it by hand"
}

show_log() { # FILE [LINES]
  [[ -s $1 ]] || return 0
  printf -- '--- last %s lines of %s ---\n' "${2:-40}" "$1" >&2
  tail -n "${2:-40}" "$1" | sed 's/^/    /' >&2
}

# Hex only: safe unquoted in connection strings, URLs, shell and .env files.
gen_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

elapsed() { printf '%ss' "$((SECONDS - $1))"; }

# ---------------------------------------------------------------- secrets --
# Generated once and reused: the databases keep the passwords they were
# provisioned with, so regenerating on every run would lock the apps out.
SECRET_KEYS=(SECKILL_PG_PASSWORD SECKILL_RABBIT_PASSWORD SECKILL_ADMIN_KEY)

load_secrets() {
  local file=$LOCAL/secrets.env k v changed=0
  declare -gA SECRET=()
  if [[ -f $file ]]; then
    while IFS='=' read -r k v; do
      [[ $k =~ ^[A-Z_]+$ ]] || continue
      v=${v#\'}; v=${v%\'}
      SECRET[$k]=$v
    done <"$file"
  fi
  for k in "${SECRET_KEYS[@]}"; do
    [[ ${SECRET[$k]:-} =~ ^[0-9a-f]{16,}$ ]] && continue
    SECRET[$k]=$(gen_hex 16)
    changed=1
  done
  if (( changed )); then
    (
      umask 077
      for k in "${SECRET_KEYS[@]}"; do printf "%s='%s'\n" "$k" "${SECRET[$k]}"; done >"$file.tmp"
      mv -f "$file.tmp" "$file"
    )
  fi
}

# The gateway's token signing key pair (RSA 2048, RS256: the cheapest asymmetric
# signature to verify, which the gateway does per request; see BuyerTokens), made
# once like the secrets: regenerating it would invalidate every token handed out
# so far. The private key (PKCS#8) is only for minting (the token command, the
# load generator); the gateway validates with the public half. A key of another
# type (an EC key of an earlier checkout) is replaced.
GATEWAY_KEY_NAME=gateway-signing-key
ensure_gateway_keys() {
  local key=$LOCAL/$GATEWAY_KEY_NAME.pem pub=$LOCAL/$GATEWAY_KEY_NAME.pub.pem openssl=/usr/bin/openssl
  [[ -x $openssl ]] || openssl=$(command -v openssl) || die "openssl is needed to create the gateway's signing key"
  if [[ -s $key ]] && ! "$openssl" pkey -in "$key" -noout -text 2>/dev/null | grep -q '^Private-Key: ([0-9]* bit, [0-9]* primes)'; then
    rm -f "$key"
  fi
  if [[ ! -s $key ]]; then
    (
      umask 077
      "$openssl" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key.tmp" 2>/dev/null \
        || die "openssl could not create the gateway's signing key"
      mv -f "$key.tmp" "$key"
    )
    rm -f "$pub"
  fi
  chmod 600 "$key"
  if [[ ! -s $pub ]]; then
    "$openssl" pkey -in "$key" -pubout -out "$pub.tmp" 2>/dev/null || die "openssl could not read $key"
    mv -f "$pub.tmp" "$pub"
    chmod 644 "$pub"
  fi
}

# Every value is single-quoted so `set -a; . file` survives the ';' in the
# connection string; a .NET reader only has to strip one pair of quotes.
# No comments or blank lines: the simplest line parser must cope.
write_env_file() {
  local file=$LOCAL/seckill.env i
  (
    umask 077
    {
      printf "ConnectionStrings__Seckill='Host=127.0.0.1;Port=%s;Database=seckill;Username=seckill;Password=%s'\n" \
        "$PG_PORT" "${SECRET[SECKILL_PG_PASSWORD]}"
      for ((i = 0; i < REDIS_SHARDS; i++)); do
        printf "Seckill__Redis__Shards__%d='127.0.0.1:%d'\n" "$i" "$((REDIS_BASE_PORT + i))"
      done
      printf "Seckill__RabbitMq__Host='127.0.0.1'\n"
      printf "Seckill__RabbitMq__Port='%s'\n" "$AMQP_PORT"
      printf "Seckill__RabbitMq__ManagementPort='%s'\n" "$RABBIT_MGMT_PORT"
      printf "Seckill__RabbitMq__VirtualHost='/'\n"
      printf "Seckill__RabbitMq__Username='seckill'\n"
      printf "Seckill__RabbitMq__Password='%s'\n" "${SECRET[SECKILL_RABBIT_PASSWORD]}"
      printf "Seckill__AdminKey='%s'\n" "${SECRET[SECKILL_ADMIN_KEY]}"
      printf "Seckill__Gateway__SigningKeyPath='%s'\n" "$LOCAL/$GATEWAY_KEY_NAME.pem"
      printf "Seckill__Gateway__PublicKeyPath='%s'\n" "$LOCAL/$GATEWAY_KEY_NAME.pub.pem"
      # Where the tests find Prometheus and drop their scrape targets (file_sd).
      printf "SECKILL_PROMETHEUS_URL='http://127.0.0.1:%s'\n" "$PROM_PORT"
      printf "SECKILL_PROMETHEUS_TARGETS='%s'\n" "$LOCAL/prometheus/targets"
    } >"$file.tmp"
    mv -f "$file.tmp" "$file"
  )
}

# ------------------------------------------------------------ packages ----
# Only touches apt when something is actually missing, so warm runs stay
# offline and fast.
ensure_packages() {
  local missing=() pkgs=(postgresql-15 rabbitmq-server redis-server)
  [[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/psql ]] || missing+=(postgresql-15)
  [[ -x $RMQ_BIN/rabbitmq-server ]] || missing+=(rabbitmq-server)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || { missing+=(curl); pkgs+=(curl); }
  (( ${#missing[@]} )) || return 0
  say "installing missing packages (${missing[*]}) with apt-get..."
  apt-get update
  APT_UPDATED=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"
  note "package installs may start their own system services (postgresql on 5432, rabbitmq-server on 5672, redis on 6379); stop those if a port clash is reported below"
}
