#!/usr/bin/env bash
# Runs a command with throwaway Postgres and Redis servers on loopback
# (started here, stopped on exit, also on failure). Each service script
# prints the `export HERALD_TEST_…_URL=…` line its tests read.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
stop_services() {
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do bash "scripts/services/${started[i]}.sh" stop || true; done
}
trap stop_services EXIT
for service in postgres redis; do
  started+=("$service")
  eval "$(bash "scripts/services/$service.sh" start)"
done
"$@"
