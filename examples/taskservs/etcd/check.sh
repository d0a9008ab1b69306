set -eu
for i in $(seq 1 30); do ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:${ETCD_CLIENT_PORT}" endpoint health && exit 0; sleep 1; done
exit 1
