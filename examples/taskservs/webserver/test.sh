set -eu
wget -q -O - "http://127.0.0.1:${PORT}/" | grep -q "hello from $(hostname)"
if wget -q -O /dev/null "http://127.0.0.1:${PORT}/missing" 2>/dev/null; then echo "expected 404 for /missing" >&2; exit 1; fi
echo "webserver serves its page and 404s the rest"
