# Needs a Debian or Ubuntu image with apt and internet access.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq redis-server
redis-server --port "${REDIS_PORT}" --daemonize yes
