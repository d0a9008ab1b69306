set -eu
before=$(/usr/local/bin/kv get runs)
/usr/local/bin/record-run
test "$(/usr/local/bin/kv get runs)" -eq $((before + 1))
echo "jobrunner records runs"
