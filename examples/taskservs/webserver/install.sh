set -eu
mkdir -p /www
echo "hello from $(hostname)" > /www/index.html
# httpd daemonizes by itself; a second install finds it already listening.
if ! wget -q -O /dev/null "http://127.0.0.1:${PORT}/" 2>/dev/null; then httpd -p "${PORT}" -h /www; fi
echo "webserver listening on ${PORT}"
