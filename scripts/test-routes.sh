#!/usr/bin/env bash
# Proves the generated Alertmanager configuration with amtool:
#   1. `amtool check-config` on alertmanager.yml (and its templates);
#   2. every routing case of tests/routes.tsv through
#      `amtool config routes test --verify.receivers=<expected> <labels...>`.
#
# Usage: scripts/test-routes.sh [ALERTMANAGER_DIR]   (default: generated/alertmanager)
#
# routes.tsv is written by obsgen: `#` comments, otherwise tab-separated
# fields, the expected receiver first, then one `label="value"` per label.
# Exits 1 when the configuration is rejected or any case fails, 2 on usage
# errors; prints one line per failure and a summary line.
set -uo pipefail

dir="${1:-generated/alertmanager}"
config="$dir/alertmanager.yml"
cases="$dir/tests/routes.tsv"

if ! command -v amtool >/dev/null 2>&1; then
  echo "test-routes: amtool is not installed (scripts/tools.sh installs it)" >&2
  exit 2
fi
for file in "$config" "$cases"; do
  if [ ! -f "$file" ]; then
    echo "test-routes: $file not found (run \`obsgen build\` first?)" >&2
    exit 2
  fi
done

if ! check_output="$(amtool check-config "$config" 2>&1)"; then
  echo "$check_output" >&2
  echo "test-routes: amtool check-config rejected $config" >&2
  exit 1
fi

passed=0
failed=0
line_number=0
while IFS=$'\t' read -r -a fields || [ "${#fields[@]}" -gt 0 ]; do
  line_number=$((line_number + 1))
  if [ "${#fields[@]}" -eq 0 ] || [[ "${fields[0]}" == \#* ]]; then
    fields=()
    continue
  fi
  expected="${fields[0]}"
  labels=("${fields[@]:1}")
  if output="$(amtool config routes test --config.file="$config" \
      --verify.receivers="$expected" "${labels[@]}" 2>&1)"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    got="$(printf '%s\n' "$output" | grep -v -e '^WARNING' -e '^Warning' | head -n 1)"
    echo "FAIL $cases:$line_number: {${labels[*]}} expected $expected, got ${got:-nothing}"
  fi
  fields=()
done < "$cases"

total=$((passed + failed))
if [ "$total" -eq 0 ]; then
  echo "test-routes: no routing cases in $cases" >&2
  exit 1
fi
echo "test-routes: $total routing cases, $passed passed, $failed failed"
[ "$failed" -eq 0 ]
