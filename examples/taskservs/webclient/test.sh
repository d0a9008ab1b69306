# Every other node answers by its name (the network alias) with its own page.
set -eu
checked=0
for peer in ${NODES:-}; do
  [ "$peer" = "${NODE:-}" ] && continue
  page=$(timeout 10 wget -q -O - "http://${peer}:${PORT}/") || { echo "${peer} does not answer on ${PORT}" >&2; exit 1; }
  case "$page" in *"hello from ${peer}"*) ;; *) echo "${peer} answered with: ${page}" >&2; exit 1 ;; esac
  checked=$((checked + 1))
done
[ "$checked" -ge 1 ] || { echo "no peers to check in NODES=${NODES:-}" >&2; exit 1; }
echo "reached ${checked} peers by name"
