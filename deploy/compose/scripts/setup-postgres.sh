#!/bin/sh
# One-shot job of docker-compose.yaml (temporal-schema): creates Temporal's two databases
# and sets up or updates their schema with temporal-sql-tool, as Temporal's own compose files
# do. Safe to run again: create and setup-schema are skipped when done, update-schema is a no-op.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
SQL_PASSWORD=$(cat "${POSTGRES_PASSWORD_FILE:-/run/secrets/postgres_password}")
export SQL_PASSWORD
port=${DB_PORT:-5432}
schema=/etc/temporal/schema/postgresql/v12

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$port ..."
nc -z -w 10 "$POSTGRES_SEEDS" "$port"

for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" --db "$db" "$@"; }
  tool create 2>/dev/null || echo "database $db exists"
  if ! tool setup-schema -v 0.0 2>/tmp/setup.err; then
    grep -q 'already exists' /tmp/setup.err || { cat /tmp/setup.err >&2; exit 1; }
    echo "schema of $db exists"
  fi
  tool update-schema -d "$schema/$dir/versioned"
done
echo 'Temporal schema ready'
