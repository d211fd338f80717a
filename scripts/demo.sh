#!/usr/bin/env bash
# `make demo`: the helloworld platform (examples/helloworld) live on 127.0.0.1.
#
# Copies the example repository into a temporary folder, puts ports chosen
# now (and a demo routing key) in place of the loopback defaults listed in
# its obsgen.yaml, builds it with obsgen, and starts what the generated
# output drives, each configuration used as it is:
#   - obsgen-helloworld three times: helloworld in production and staging,
#     guestbook (which does not page) in production;
#   - a Prometheus per environment (generated prometheus.yml and its rules);
#   - Alertmanager (generated alertmanager.yml), whose PagerDuty receiver
#     posts to scripts/fake-pagerduty.py, a local Events API v2 stand-in
#     that prints what it receives;
#   - k6 with the generated warm-up script, over and over, in both
#     environments, so that the graphs move.
# Then it prints the URLs and waits for commands; Ctrl-C (or `q`) stops
# everything it started. tests/integration/e2e.rs runs the same, headless.
#
# Needs: prometheus, alertmanager, k6, python3 (`make tools` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

find_tool() {
  local name
  for name in "$@"; do
    command -v "$name" 2>/dev/null && return 0
    [ -x "$HOME/.local/bin/$name" ] && { echo "$HOME/.local/bin/$name"; return 0; }
  done
  echo "demo.sh: $1 is missing; run \`make tools\` (scripts/tools.sh)" >&2
  exit 1
}
python=$(find_tool python3)
prometheus=$(find_tool prometheus)
alertmanager=$(find_tool alertmanager prometheus-alertmanager)
k6=$(find_tool k6)

echo "demo: building obsgen and obsgen-helloworld" >&2
cargo build --quiet --bin obsgen --bin obsgen-helloworld
obsgen=target/debug/obsgen
helloworld=target/debug/obsgen-helloworld

work=$(mktemp -d "${TMPDIR:-/tmp}/obsgen-demo.XXXXXX")
mkdir -p "$work/logs" "$work/secrets" "$work/repo/services"
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo >&2
  echo "demo: stopping everything" >&2
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "${OBSGEN_DEMO_KEEP:-}" = 1 ]; then
    echo "demo: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports free now, all different (bound together, then released).
read -r p_hello_prod p_hello_staging p_guestbook p_am p_fake p_prom_prod p_prom_staging \
  p_k6_prod p_k6_staging < <("$python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(9)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
)

# The repository, with the run-time ports and secrets folder.
"$python" -c 'import secrets; print(secrets.token_hex(16), end="")' >"$work/secrets/hello-pagerduty"
for path in examples/helloworld/obsgen.yaml examples/helloworld/services/*.yaml; do
  file=${path#examples/helloworld/}
  sed -e "s/127\.0\.0\.1:18080/127.0.0.1:$p_hello_prod/g" \
      -e "s/127\.0\.0\.1:18081/127.0.0.1:$p_hello_staging/g" \
      -e "s/127\.0\.0\.1:18082/127.0.0.1:$p_guestbook/g" \
      -e "s/127\.0\.0\.1:19093/127.0.0.1:$p_am/g" \
      -e "s/127\.0\.0\.1:19094/127.0.0.1:$p_fake/g" \
      -e "s/127\.0\.0\.1:9090/127.0.0.1:$p_prom_prod/g" \
      -e "s|/etc/alertmanager/secrets/|$work/secrets/|g" \
      "$path" >"$work/repo/$file"
done
"$obsgen" --root "$work/repo" build >"$work/logs/obsgen-build.log"
out="$work/repo/generated"

# Loopback only: no proxy between the processes.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export NO_PROXY='*' no_proxy='*'

start() { # name command...: in the background, output to logs/<name>.log
  local name=$1
  shift
  "$@" >"$work/logs/$name.log" 2>&1 &
  pids+=($!)
}

# The fake PagerDuty prints each event to this terminal.
"$python" scripts/fake-pagerduty.py --port "$p_fake" --log "$work/pagerduty.jsonl" &
pids+=($!)
start helloworld-staging "$helloworld" --listen "127.0.0.1:$p_hello_staging"
start guestbook-production "$helloworld" --listen "127.0.0.1:$p_guestbook"
"$helloworld" --listen "127.0.0.1:$p_hello_prod" >>"$work/logs/helloworld-production.log" 2>&1 &
hello_prod_pid=$!
pids+=("$hello_prod_pid")
start alertmanager "$alertmanager" \
  --config.file="$out/alertmanager/alertmanager.yml" \
  --storage.path="$work/alertmanager-data" \
  --web.listen-address="127.0.0.1:$p_am" \
  --web.external-url="http://127.0.0.1:$p_am/" \
  --cluster.listen-address=
for env in production staging; do
  port=$p_prom_prod
  [ "$env" = staging ] && port=$p_prom_staging
  start "prometheus-$env" "$prometheus" \
    --config.file="$out/prometheus/$env/prometheus.yml" \
    --storage.tsdb.path="$work/prometheus-$env-data" \
    --web.listen-address="127.0.0.1:$port" \
    --web.external-url="http://127.0.0.1:$port/"
done

warm_up_loop() { # env service-port api-port: the generated warm-up, again and again
  local child=
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  while :; do
    "$k6" run --quiet --no-color --no-usage-report --address "127.0.0.1:$3" \
      -e "ENV=$1" -e "BASE_URL=http://127.0.0.1:$2" "$out/k6/helloworld.js" &
    child=$!
    wait "$child" || true
    sleep 1
  done
}
warm_up_loop production "$p_hello_prod" "$p_k6_prod" >"$work/logs/k6-production.log" 2>&1 &
pids+=($!)
warm_up_loop staging "$p_hello_staging" "$p_k6_staging" >"$work/logs/k6-staging.log" 2>&1 &
pids+=($!)

http_request() { # METHOD URL: prints the answer's body
  "$python" - "$1" "$2" <<'EOF'
import sys, urllib.request
request = urllib.request.Request(sys.argv[2], method=sys.argv[1])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(opener.open(request, timeout=5).read().decode().strip())
EOF
}
wait_ready() { # URL
  local _
  for _ in $(seq 1 100); do
    http_request GET "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "demo: $1 did not answer; see the logs in $work/logs" >&2
  exit 1
}
wait_ready "http://127.0.0.1:$p_prom_prod/-/ready"
wait_ready "http://127.0.0.1:$p_prom_staging/-/ready"
wait_ready "http://127.0.0.1:$p_am/-/ready"
wait_ready "http://127.0.0.1:$p_hello_prod/admin/fail"
wait_ready "http://127.0.0.1:$p_fake/events"

cat <<EOF

The helloworld platform runs on 127.0.0.1 (inputs, output and logs in $work):
  helloworld, production    http://127.0.0.1:$p_hello_prod/      (/metrics, /hello/<name>)
  helloworld, staging       http://127.0.0.1:$p_hello_staging/
  guestbook, production     http://127.0.0.1:$p_guestbook/        (does not page)
  Prometheus, production    http://127.0.0.1:$p_prom_prod/alerts
  Prometheus, staging       http://127.0.0.1:$p_prom_staging/alerts
  Alertmanager              http://127.0.0.1:$p_am/
  fake PagerDuty            http://127.0.0.1:$p_fake/events   (its events are printed below)
  k6 warm-up                in both environments, over and over (logs/k6-*.log)
  generated output          $out
                            (grafana/ holds the dashboards and a datasource for this Prometheus)

Commands (then Enter):
  f   make production's helloworld fail half its requests, or stop failing
      (the availability burn alert pages after its 2 minutes)
  s   stop production's helloworld, or start it again
      (ServiceUnavailable pages after 1 minute, and resolves when it is back)
  q   quit (or Ctrl-C): stops everything
EOF

failing=0
command=
while read -r command; do
  case "$command" in
    f)
      failing=$((50 - failing))
      if kill -0 "$hello_prod_pid" 2>/dev/null; then
        echo "demo: helloworld fails $(http_request PUT "http://127.0.0.1:$p_hello_prod/admin/fail?percent=$failing") % of its requests"
      else
        echo "demo: helloworld is stopped; it will fail $failing % when started"
      fi
      ;;
    s)
      if kill -0 "$hello_prod_pid" 2>/dev/null; then
        kill "$hello_prod_pid"
        wait "$hello_prod_pid" 2>/dev/null || true
        echo "demo: helloworld (production) stopped"
      else
        "$helloworld" --listen "127.0.0.1:$p_hello_prod" --fail-percent "$failing" \
          >>"$work/logs/helloworld-production.log" 2>&1 &
        hello_prod_pid=$!
        pids+=("$hello_prod_pid")
        echo "demo: helloworld (production) started, failing $failing %"
      fi
      ;;
    q) break ;;
    "") ;;
    *) echo "demo: f, s or q" ;;
  esac
done
if [ "$command" != q ]; then
  # No more input (not a terminal): run until Ctrl-C or a signal.
  echo "demo: no more commands; Ctrl-C stops everything" >&2
  wait
fi
