#!/usr/bin/env bash
# Makes sure a PostgreSQL server is running on 127.0.0.1:5432 with the role the tests use.
# Prints the DATABASE_URL to use on its last line. Exit 3 when PostgreSQL is not installed.
set -euo pipefail

PG_USER=polyglot
PG_PASSWORD=polyglot
PG_DB=polyglot

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 3
fi

cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2" "$4}')
if [ -z "$cluster" ]; then
  echo "no PostgreSQL cluster exists (pg_createcluster 15 main)" >&2
  exit 3
fi
read -r version name status <<<"$cluster"
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$name" start
fi

as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}
for _ in $(seq 1 50); do
  if as_postgres "psql -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
as_postgres "psql -qAtc \"select 1 from pg_roles where rolname='$PG_USER'\"" | grep -q 1 ||
  as_postgres "psql -qc \"create role $PG_USER login createdb password '$PG_PASSWORD'\"" >/dev/null
as_postgres "psql -qAtc \"select 1 from pg_database where datname='$PG_DB'\"" | grep -q 1 ||
  as_postgres "createdb -O $PG_USER $PG_DB"
echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:5432/$PG_DB"
