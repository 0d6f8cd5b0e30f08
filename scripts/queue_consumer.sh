#!/usr/bin/env bash
# A consumer task for the simulated queue (queue_sim.ts), in bash alone: the cooler of the
# docker-compose demo. Mesos agents run tasks inside the agent containers, which have bash but no
# Deno (and maybe no curl), so this speaks HTTP over bash's /dev/tcp instead. It does what
# queue_consumer.ts does: says hello, takes CONSUMER_RATE items every second for CONSUMER_LIFE
# seconds, says bye, prints what it consumed and exits 0 (also on SIGTERM/SIGINT), or exits 1 when
# the queue cannot be reached.
#
# Environment: QUEUE_URL (required, http://HOST:PORT), CONSUMER_RATE (whole items/s, default 5),
# CONSUMER_LIFE (whole seconds, default 10).
set -u

fail() {
  echo "queue_consumer: $*" >&2
  exit 1
}

url="${QUEUE_URL:-}"
[[ -n "$url" ]] || fail "QUEUE_URL is not set"
[[ "$url" =~ ^http://([^/:]+):([0-9]+)/?$ ]] || fail "QUEUE_URL must be http://HOST:PORT: $url"
host="${BASH_REMATCH[1]}"
port="${BASH_REMATCH[2]}"
rate="${CONSUMER_RATE:-5}"
life="${CONSUMER_LIFE:-10}"
[[ "$rate" =~ ^[0-9]+$ ]] || fail "CONSUMER_RATE must be a whole number >= 0: $rate"
[[ "$life" =~ ^[0-9]+$ ]] || fail "CONSUMER_LIFE must be a whole number >= 0: $life"

# post PATH: sends an empty POST, prints the response body; fails on no connection or non-2xx.
post() {
  local response status
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
    "$1" "$host" "$port" >&3
  response="$(cat <&3)"
  exec 3<&- 3>&-
  status="${response%%$'\r'*}"
  [[ "$status" =~ ^HTTP/1\.[01]\ 2[0-9][0-9] ]] || return 1
  response="${response#*$'\r\n\r\n'}"
  printf '%s' "${response//[$'\r\n']/}"
}

post /hello >/dev/null || fail "queue unreachable at $url"
consumed=0
started=$SECONDS
finish() {
  post /bye >/dev/null || true
  echo "consumed $consumed items in $((SECONDS - started)) s"
  exit 0
}
trap finish TERM INT

for ((i = 0; i < life; i++)); do
  # In the background and waited for, so that SIGTERM ends the wait at once.
  sleep 1 &
  wait $!
  taken="$(post "/take?n=$rate")" || fail "queue unreachable at $url"
  [[ "$taken" =~ ^[0-9]+$ ]] && consumed=$((consumed + taken))
done
finish
