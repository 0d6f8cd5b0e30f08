#!/bin/sh
# start_detached.sh DELAY COMMAND [ARGS...]: a trigger task, like the original Relay README's
# `./start-worker.sh`. It starts COMMAND in the background, DELAY seconds from now, fully detached
# (its own session, so killing this task does not reach it; stdin/stdout/stderr on /dev/null, so it
# does not hold the task's pipes open), and exits 0 at once. The work COMMAND does happens after
# this task has ended, which is what a "trigger" is to Relay's control law.
#
# Give COMMAND a life of its own (e.g. CONSUMER_LIFE for queue_consumer.ts): nothing here stops it.
# Example (a queue consumer that starts 1.5 s from now):
#   start_detached.sh 1.5 deno run --allow-net=127.0.0.1 --allow-env scripts/queue_consumer.ts
set -eu
if [ "$#" -lt 2 ]; then
  echo "usage: start_detached.sh DELAY COMMAND [ARGS...]" >&2
  exit 2
fi
delay=$1
shift
setsid sh -c 'sleep "$0" && exec "$@"' "$delay" "$@" </dev/null >/dev/null 2>&1 &
exit 0
