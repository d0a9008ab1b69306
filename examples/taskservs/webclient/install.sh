set -eu
command -v wget >/dev/null
echo "webclient ready to check: ${NODES:-}"
