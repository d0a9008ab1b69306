set -eu
pidof crond >/dev/null
test "$(/usr/local/bin/kv get runs)" -ge 1
