#!/bin/sh
# One-shot job of docker-compose.yaml (temporal-namespace): waits for the server, creates the
# namespace and registers provisioning's search attributes (src/model/search-attributes.ts;
# a unit test keeps the two lists equal). Safe to run again.
set -eu
ns=${DEFAULT_NAMESPACE:-default}
address=${TEMPORAL_ADDRESS:-temporal:7233}

attempt=1
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  [ "$attempt" -ge 60 ] && { echo "Temporal at $address is not healthy after 60 attempts" >&2; exit 1; }
  echo "waiting for Temporal at $address (attempt $attempt) ..."
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$address" -n "$ns" >/dev/null 2>&1; then
  echo "namespace $ns exists"
else
  temporal operator namespace create --address "$address" -n "$ns" --retention 7d
  echo "namespace $ns created"
fi

# A new namespace reaches every service of the server within seconds (its namespace cache).
attempt=1
until existing=$(temporal operator search-attribute list --address "$address" -n "$ns" 2>/dev/null); do
  [ "$attempt" -ge 30 ] && { echo "namespace $ns is not usable after 30 attempts" >&2; exit 1; }
  echo "waiting for namespace $ns to be usable (attempt $attempt) ..."
  attempt=$((attempt + 1))
  sleep 2
done

register() { # name type
  if printf '%s\n' "$existing" | grep -qw "$1"; then
    echo "search attribute $1 exists"
  else
    temporal operator search-attribute create --address "$address" -n "$ns" --name "$1" --type "$2"
    echo "search attribute $1 ($2) registered"
  fi
}
register ProvisioningOperation Keyword
register ProvisioningTargets KeywordList
