# A throwaway PostgreSQL cluster for tests: `start_test_postgres DIR` initialises and starts
# one in DIR on a free loopback port and exports PAYDESK_TEST_POSTGRES (a superuser URL);
# `stop_test_postgres DIR` stops it. Runs as `postgres` when called as root.

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "paydesk: PostgreSQL's programs are missing (apt-get install postgresql)" >&2; return 1; }
  echo "$dir"
}

as_db_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster's folder (the server's user owns it) and a free loopback port, kept in it.
new_test_cluster_dir() {
  local dir=$1
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir" && chmod 755 "$(dirname "$dir")"
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' > "$dir/port"
}

start_test_postgres() {
  local dir=$1 bin port
  bin=$(pg_bin)
  new_test_cluster_dir "$dir"
  port=$(cat "$dir/port")
  as_db_user "$bin/initdb" -D "$dir/data" -U paydesk --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  resume_test_postgres "$dir"
  export PAYDESK_TEST_POSTGRES="postgres://paydesk@127.0.0.1:$port/postgres"
  export PAYDESK_TEST_POSTGRES_DIR="$dir"
}

# Starts a cluster made by start_test_postgres again, on its port (after a stop).
resume_test_postgres() {
  local dir=$1 bin tls=""
  bin=$(pg_bin)
  [ -f "$dir/server.key" ] && tls="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  as_db_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-h 127.0.0.1 -p $(cat "$dir/port") -k $dir -c fsync=off -c max_connections=200 $tls" start >/dev/null
}

# A cluster that speaks TLS only: its own certificate authority ($dir/ca.crt) signs the
# server's certificate for 127.0.0.1, and plain connections are refused.
start_test_postgres_tls() {
  local dir=$1 bin port
  bin=$(pg_bin)
  new_test_cluster_dir "$dir"
  port=$(cat "$dir/port")
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Paydesk test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  chmod 600 "$dir/server.key"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/server.key" "$dir/server.crt"
  chmod 644 "$dir/ca.crt"
  as_db_user "$bin/initdb" -D "$dir/data" -U paydesk --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # TLS or nothing, even on loopback.
  printf 'hostssl all all 127.0.0.1/32 trust\nlocal all all trust\n' | as_db_user tee "$dir/data/pg_hba.conf" >/dev/null
  resume_test_postgres "$dir"
  export PAYDESK_TEST_POSTGRES="postgres://paydesk@127.0.0.1:$port/postgres?sslmode=require&sslrootcert=$dir/ca.crt"
}

stop_test_postgres() {
  local dir=$1 bin
  bin=$(pg_bin) || return 0
  [ -d "$dir/data" ] && as_db_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}
