set -eu
for i in $(seq 1 30); do pg_isready -q && exit 0; sleep 1; done
exit 1
