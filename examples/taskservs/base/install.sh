set -eu
mkdir -p /etc/provisioning /var/lib/provisioning
hostname > /etc/provisioning/hostname
echo "base installed on $(hostname)"
