# Needs a Debian or Ubuntu image with apt and internet access.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql
pg_ctlcluster "$(ls /etc/postgresql)" main start
