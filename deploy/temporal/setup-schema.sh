#!/bin/sh
# Create or upgrade Temporal's two PostgreSQL databases (temporalio/admin-tools).
# Idempotent: an existing database is kept and only missing schema versions are applied,
# so this runs before every start of the server, and after an image upgrade it upgrades.
# Connection from the environment: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD;
# database names: DBNAME and VISIBILITY_DBNAME, the same variables the server reads.
set -eu

schema=/etc/temporal/schema/postgresql/v12

setup() {
    echo "temporal schema: $1 ($2)"
    temporal-sql-tool --db "$1" create
    temporal-sql-tool --db "$1" setup-schema -v 0.0
    temporal-sql-tool --db "$1" update-schema -d "$schema/$2/versioned"
}

setup "${DBNAME:?set DBNAME}" temporal
setup "${VISIBILITY_DBNAME:?set VISIBILITY_DBNAME}" visibility
