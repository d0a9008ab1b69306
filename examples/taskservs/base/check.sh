test -d /etc/provisioning && test -d /var/lib/provisioning && test -s /etc/provisioning/hostname
