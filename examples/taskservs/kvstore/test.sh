set -eu
/usr/local/bin/kv set greeting hello
test "$(/usr/local/bin/kv get greeting)" = hello
/usr/local/bin/kv del greeting
if /usr/local/bin/kv get greeting 2>/dev/null; then echo "deleted key still readable" >&2; exit 1; fi
echo "kvstore sets, gets and deletes"
