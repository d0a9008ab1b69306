set -eu
mkdir -p /etc/crontabs /usr/local/bin
cat > /usr/local/bin/record-run <<'JOB'
#!/bin/sh
n=$(/usr/local/bin/kv get runs 2>/dev/null || echo 0)
/usr/local/bin/kv set runs $((n + 1))
JOB
chmod +x /usr/local/bin/record-run
echo "* * * * * /usr/local/bin/record-run" > /etc/crontabs/root
pidof crond >/dev/null || crond -c /etc/crontabs
/usr/local/bin/record-run
echo "jobrunner installed"
