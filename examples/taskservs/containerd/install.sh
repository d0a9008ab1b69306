# Needs a Debian or Ubuntu image with apt and internet access (not the busybox base image).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq containerd
mkdir -p /etc/containerd
containerd config default > /etc/containerd/config.toml
(containerd > /var/log/containerd.log 2>&1 &)
