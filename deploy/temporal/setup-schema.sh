#!/bin/sh
# One-shot job (temporalio/admin-tools): creates Temporal's two PostgreSQL databases and brings
# their schemas up to the version the admin-tools image ships. Safe to re-run: `create` tolerates
# an existing database and `update-schema` only applies missing versions.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
PORT="${DB_PORT:-5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$PORT"
tries=0
until nc -z "$POSTGRES_SEEDS" "$PORT"; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "PostgreSQL did not answer"; exit 1; }
  sleep 1
done

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir="$SCHEMA_DIR/temporal/versioned" ;;
    *) dir="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "schema for database $db"
  sql --db "$db" create || echo "database $db already exists"
  # setup-schema -v 0.0 only creates the version table; it fails harmlessly once it exists.
  sql --db "$db" setup-schema -v 0.0 || echo "database $db already initialised"
  sql --db "$db" update-schema -d "$dir"
done
echo "Temporal schema ready"
