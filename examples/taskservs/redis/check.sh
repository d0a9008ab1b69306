set -eu
for i in $(seq 1 30); do [ "$(redis-cli -p "${REDIS_PORT}" ping 2>/dev/null)" = PONG ] && exit 0; sleep 1; done
exit 1
