# Runs inside `xvfb-run dbus-run-session`: a fresh HOME with its own unlocked keyring, so the
# tests use the real Secret Service and never touch the developer's own secrets.
set -euo pipefail
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_HOME/bin:$PATH"
test_home=$(mktemp -d)
trap 'rm -rf "$test_home"' EXIT
export HOME="$test_home" XDG_DATA_HOME="$test_home/.local/share" XDG_CONFIG_HOME="$test_home/.config"
echo -n "paydesk-test" | gnome-keyring-daemon --components=secrets --daemonize --unlock >/dev/null

# A throwaway PostgreSQL cluster for the shared-ledger tests: its own folder, loopback only,
# gone when the tests end. PostgreSQL refuses to run as root: then it runs as `postgres`.
. scripts/lib/postgres.sh
start_test_postgres "$test_home/pg"
trap 'stop_test_postgres "$test_home/pg"; rm -rf "$test_home"' EXIT
# Pass 1: everything, on the default SQLite ledger. Pass 2 (a whole run, or when asked with
# PAYDESK_TEST_ENGINE=postgres): the core's behaviour suite and the windows again on the
# shared PostgreSQL ledger, each test with a database of its own.
status=0
cargo nextest run --workspace --exclude paydesk-empty-app --features paydesk-app/mock-runtime --no-fail-fast "$@" || status=$?
if [ $# -eq 0 ]; then
  echo "paydesk: the core's behaviour suite and the windows again, on the shared PostgreSQL ledger" >&2
  # The same build as pass 1 (same packages and features), so nothing is compiled again.
  PAYDESK_TEST_ENGINE=postgres cargo nextest run --workspace --exclude paydesk-empty-app --features paydesk-app/mock-runtime --no-fail-fast \
    -E 'package(paydesk-core) | binary(behaviour) | binary(window) | binary(window_display)' || status=$?
fi
exit $status
