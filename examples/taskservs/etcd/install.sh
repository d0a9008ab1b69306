# Needs a Debian or Ubuntu image with apt and internet access.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq etcd-server etcd-client
(etcd --data-dir /var/lib/etcd --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" > /var/log/etcd.log 2>&1 &)
