set -eu
for i in $(seq 1 20); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done
exit 1
