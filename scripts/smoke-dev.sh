#!/usr/bin/env bash
# The README's "run" commands as a new user types them: `npx provisioning dev` in one terminal,
# `npx provisioning test quick webserver` in another; then Ctrl-C to dev. Fails when either
# does not work, and always stops dev.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
# Job control: dev runs in its own process group, as in a terminal, so the Ctrl-C (SIGINT)
# below reaches npx and provisioning alike (a plain background job would ignore it).
set -m
npx provisioning dev >"$log" 2>&1 &
dev=$!
set +m
stop_dev() {
  if kill -0 "$dev" 2>/dev/null; then
    kill -INT -- "-$dev"
    wait "$dev" || true
    grep -q "Stopped the worker and the dev server." "$log" || { cat "$log"; echo "smoke: Ctrl-C did not stop provisioning dev cleanly" >&2; exit 1; }
  fi
  rm -f "$log"
}
trap stop_dev EXIT
for _ in $(seq 1 120); do
  grep -q 'Press Ctrl-C to stop.' "$log" && break
  kill -0 "$dev" 2>/dev/null || { cat "$log"; echo "smoke: provisioning dev exited before it was ready" >&2; exit 1; }
  sleep 1
done
grep -q 'Press Ctrl-C to stop.' "$log" || { cat "$log"; echo "smoke: provisioning dev was not ready after 120 s" >&2; exit 1; }
cat "$log"
node -e "fetch('http://127.0.0.1:8233/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" || { echo "smoke: the Web UI on :8233 does not answer" >&2; exit 1; }
echo "Web UI answers on http://127.0.0.1:8233"
npx provisioning test quick webserver
