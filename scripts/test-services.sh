#!/usr/bin/env bash
# Make sure the databases the tests use are running. PostgreSQL and MariaDB come with
# this kind of machine; start them if they stopped. With CI=true a missing database
# fails the run here, with the reason, instead of letting tests skip.
set -uo pipefail

ready_pg() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready_maria() { mariadb-admin --protocol=tcp -h 127.0.0.1 -u root ping >/dev/null 2>&1 \
  || mysqladmin --protocol=tcp -h 127.0.0.1 -u root ping >/dev/null 2>&1; }

wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  return 1
}

missing=""
if ! ready_pg; then
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  wait_for postgresql ready_pg || missing="$missing postgresql"
fi
if ! ready_maria; then
  if [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  wait_for mariadb ready_maria || missing="$missing mariadb"
fi

if [ -n "$missing" ]; then
  echo "test databases not running:$missing" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "their tests will be skipped (with CI=true they fail)" >&2
fi
exit 0
