#!/usr/bin/env bash
# Runs every test: the .NET suite, then the web console's browser tests (web/e2e). The test
# fixtures start their own Azurite (free ports, in memory).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
bash scripts/bootstrap-web.sh --browser

log=$(mktemp)
e2e_log=$(mktemp)
trap 'rm -f "$log" "$e2e_log"' EXIT
set +e
# The TypeScript client: tsc (strict) and its node tests; their counts join the closing line.
(cd clients/typescript && npm test --silent) 2>&1 | tee "$log.client"
client_status=${PIPESTATUS[0]}
awk '/^# pass [0-9]+/ { printf "     Passed: %d\n", $3 } /^# fail [0-9]+/ { printf "     Failed: %d\n", $3 }' "$log.client" > "$log"
rm -f "$log.client"
dotnet test RaptorFlow.sln -c Release -nologo --logger "console;verbosity=normal" 2>&1 | tee -a "$log" | grep -vE '^\s+(Passed|Skipped) |^\s*$'
status=${PIPESTATUS[0]}
[ "$client_status" -eq 0 ] || status=1

# The console in headless Chromium against the app just built (Release), its own Azurite and a
# static server on a second origin. TAP goes to a file for the summary below.
(cd web && node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$e2e_log" e2e/)
e2e_status=$?
[ "$e2e_status" -ne 0 ] && status=1
set -e

# The failures again, so they sit next to the summary instead of among the logs above.
awk '/^ +Failed [^ ]/ { show = 1; n = 0; print "" }
  show && /^ +(Passed|Skipped) |^\[xUnit|^\{/ { show = 0 }
  show { print; if (++n >= 40) show = 0 }' "$log"
grep -E '^\s*not ok ' "$e2e_log" | sed 's/^\s*/  Failed (browser) /' || true

# One closing line for the whole run, summed over the test assemblies and the browser tests.
awk '/^ +Passed: [0-9]+ *$/ { p += $2 } /^ +Failed: [0-9]+ *$/ { f += $2 } /^ +Skipped: [0-9]+ *$/ { s += $2 }
  /^# pass [0-9]+$/ { p += $3 } /^# (fail|cancelled) [0-9]+$/ { f += $3 } /^# (skipped|todo) [0-9]+$/ { s += $3 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log" "$e2e_log"

# Warnings are errors in the build; formatting is checked the same way.
if ! dotnet format RaptorFlow.sln --verify-no-changes --verbosity quiet; then
  echo "dotnet format found unformatted code: run 'dotnet format RaptorFlow.sln'." >&2
  status=1
fi
exit "$status"
