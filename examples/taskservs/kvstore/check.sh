set -eu
/usr/local/bin/kv set health ok
test "$(/usr/local/bin/kv get health)" = ok
