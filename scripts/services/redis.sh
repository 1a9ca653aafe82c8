#!/usr/bin/env bash
# A throwaway Redis for the test suites.
#   start: installs Debian's redis-server when missing, starts an instance with
#          no persistence on 127.0.0.1 (first free port from 56379), prints
#          `export HERALD_TEST_REDIS_URL=...` on stdout (so
#          `eval "$(redis.sh start)"` works); logs go to stderr.
#   stop:  shuts that instance down and removes its dir.
#   restart: shuts that instance down saving its data (SHUTDOWN SAVE: an RDB file in its dir, as a
#          Redis with persistence keeps it) and starts it again on the same port with that data;
#          test/processes/restarts.test.ts does this to a private instance.
# State lives in $HERALD_REDIS_STATE (default /tmp/herald-redis): pid, log, URL file.
set -euo pipefail

state=${HERALD_REDIS_STATE:-/tmp/herald-redis}
port=${HERALD_REDIS_PORT:-56379}
log() { echo "redis.sh: $*" >&2; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() {
  [ -f "$state/url" ] && [ -f "$state/redis.pid" ] && kill -0 "$(cat "$state/redis.pid")" 2>/dev/null
}

# Starts redis-server on $1 with its state in $state, and waits until it answers PING.
launch() {
  local port=$1
  # Debian's package also installs a system service; this instance is ours alone:
  # loopback only, no RDB/AOF files (but the one `restart` saves), everything under $state.
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --dir "$state" --pidfile "$state/redis.pid" --logfile "$state/redis.log" >&2 ||
    { cat "$state/redis.log" >&2 2>/dev/null; exit 1; }
  # Ready once it answers PING (daemonize returns before the socket is up).
  local tries=0
  until [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ]; then
      log "redis did not answer PING on port $port"
      cat "$state/redis.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

start() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Debian's redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends redis-server >&2
  fi

  if running; then
    log "already running"
    echo "export HERALD_TEST_REDIS_URL=$(cat "$state/url")"
    return
  fi
  rm -rf "$state"
  mkdir -p "$state"

  while ! port_free "$port"; do port=$((port + 1)); done

  launch "$port"

  local url="redis://127.0.0.1:$port"
  echo "$url" >"$state/url"
  log "running at $url (state in $state)"
  echo "export HERALD_TEST_REDIS_URL=$url"
}

stop() {
  if [ -f "$state/url" ]; then
    local url port_in_use
    url=$(cat "$state/url")
    port_in_use=${url##*:}
    redis-cli -h 127.0.0.1 -p "$port_in_use" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -f "$state/redis.pid" ]; then
    local pid
    pid=$(cat "$state/redis.pid")
    # SHUTDOWN normally suffices; make sure the exact process we started is gone.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
  fi
  rm -rf "$state"
  log "stopped"
}

restart() {
  running || { log "not running"; exit 1; }
  local url port pid
  url=$(cat "$state/url")
  port=${url##*:}
  pid=$(cat "$state/redis.pid")
  redis-cli -h 127.0.0.1 -p "$port" shutdown save >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  # The --dir is the same, so the new instance loads the dump.rdb the old one wrote.
  launch "$port"
  log "restarted at redis://127.0.0.1:$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
