#!/usr/bin/env bash
# Starts/stops an nginx origin on 127.0.0.1 for the tests/nginx suite and the
# HTTP streaming benchmark. Everything (config, pid, logs, temp dirs, TLS
# material) lives in <run-dir>; nothing needs root.
#   start <run-dir>  writes <run-dir>/url (http base URL), <run-dir>/https_url
#                    (https base URL, certificate for "localhost" only),
#                    <run-dir>/ca.pem (the CA that signed it) and serves
#                    <run-dir>/www. Tests put their files into www.
#   stop <run-dir>   stops it.
set -euo pipefail

cmd=${1:-}
run=${2:-}
if [[ -z "$cmd" || -z "$run" ]]; then
  echo "usage: $0 start|stop <run-dir>" >&2
  exit 2
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
# shellcheck source=../fixture-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../fixture-lib.sh"

stop() {
  stop_pidfile "$run/nginx.pid" QUIT
}

make_tls() {
  local d="$run/tls"
  [[ -f "$d/server.pem" && -f "$d/ca.pem" ]] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=atdata test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  # SAN is DNS:localhost only, so https://127.0.0.1 is a host-name mismatch.
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
}

write_conf() {
  local port=$1 tport=$2 user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user $(id -un);"
  cat >"$run/nginx.conf" <<CONF
$user_line
daemon on;
worker_processes 1;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 256; }
http {
  access_log $run/access.log;
  client_body_temp_path $run/tmp/body;
  proxy_temp_path $run/tmp/proxy;
  fastcgi_temp_path $run/tmp/fastcgi;
  uwsgi_temp_path $run/tmp/uwsgi;
  scgi_temp_path $run/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  absolute_redirect off;
  server {
    listen 127.0.0.1:$port;
    listen 127.0.0.1:$tport ssl;
    server_name localhost;
    ssl_certificate $run/tls/server.pem;
    ssl_certificate_key $run/tls/server.key;
    root $run/www;
    # The connection serial number lets tests observe keep-alive reuse.
    add_header X-Connection \$connection always;
    location = /redirect/relative { return 302 /small.txt; }
    location = /redirect/chain { return 301 /redirect/relative; }
    location = /redirect/absolute { return 307 http://127.0.0.1:$port/small.txt; }
    location = /redirect/loop { return 302 /redirect/loop; }
    location = /redirect/see-other { return 303 /small.txt; }
    location = /status/500 { return 500 "internal failure for test"; }
  }
}
CONF
}

case "$cmd" in
  start)
    mkdir -p "$run/www" "$run/tmp"
    stop
    make_tls
    cp "$run/tls/ca.pem" "$run/ca.pem"
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      tport=$(free_port)
      [[ "$port" == "$tport" ]] && continue
      write_conf "$port" "$tport"
      if "$NGINX" -p "$run" -c "$run/nginx.conf" -e "$run/error.log" 2>>"$run/start.log"; then
        for _ in $(seq 50); do [[ -s "$run/nginx.pid" ]] && break; sleep 0.1; done
        echo "http://127.0.0.1:$port" >"$run/url"
        echo "https://localhost:$tport" >"$run/https_url"
        echo "nginx on 127.0.0.1:$port (https $tport), run dir $run"
        exit 0
      fi
      echo "nginx start attempt $attempt failed, retrying" >&2
    done
    cat "$run/start.log" >&2 || true
    exit 1
    ;;
  stop)
    stop
    rm -rf "$run/www" "$run/tmp"  # test files can be large (tens of MB)
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
