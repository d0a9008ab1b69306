set -eu
for i in 1 2 3 4 5 6 7 8 9 10; do
  if wget -q -O - "http://127.0.0.1:${PORT}/" | grep -q "hello from"; then exit 0; fi
  sleep 0.2
done
echo "webserver does not answer on ${PORT}" >&2
exit 1
