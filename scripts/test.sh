#!/usr/bin/env bash
# Runs every test. The test fixtures start their own Azurite (free ports, in memory).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# The TypeScript client: tsc (strict) and its node tests; their counts join the closing line.
(cd clients/typescript && npm test --silent) 2>&1 | tee "$log.client"
client_status=${PIPESTATUS[0]}
awk '/^# pass [0-9]+/ { printf "     Passed: %d\n", $3 } /^# fail [0-9]+/ { printf "     Failed: %d\n", $3 }' "$log.client" > "$log"
rm -f "$log.client"
dotnet test RaptorFlow.sln -c Release -nologo --logger "console;verbosity=normal" 2>&1 | tee -a "$log" | grep -vE '^\s+(Passed|Skipped) |^\s*$'
status=${PIPESTATUS[0]}
[ "$client_status" -eq 0 ] || status=1
set -e

# The failures again, so they sit next to the summary instead of among the logs above.
awk '/^ +Failed [^ ]/ { show = 1; n = 0; print "" }
  show && /^ +(Passed|Skipped) |^\[xUnit|^\{/ { show = 0 }
  show { print; if (++n >= 40) show = 0 }' "$log"

# One closing line for the whole run, summed over the test assemblies.
awk '/^ +Passed: [0-9]+ *$/ { p += $2 } /^ +Failed: [0-9]+ *$/ { f += $2 } /^ +Skipped: [0-9]+ *$/ { s += $2 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"

# Warnings are errors in the build; formatting is checked the same way.
if ! dotnet format RaptorFlow.sln --verify-no-changes --verbosity quiet; then
  echo "dotnet format found unformatted code: run 'dotnet format RaptorFlow.sln'." >&2
  status=1
fi
exit "$status"
