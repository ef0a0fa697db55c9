#!/bin/sh
# The Functions host starts the custom handler as `/bin/sh launch.sh` (host.json), so the app
# starts even when the deployment zip dropped the Unix execute bit of the handler executable.
set -e
here=$(cd "$(dirname "$0")" && pwd)
app="$here/RaptorFlow.Functions"

if [ -x "$app" ] || chmod +x "$app" 2>/dev/null; then
  exec "$app" "$@"
fi

# The package is mounted read-only (Flex Consumption runs from the package): run a copy of the
# app folder that carries the execute bit. One copy per package version, made once per instance.
stamp=$(cksum < "$app" | cut -d ' ' -f 1)
copy="${TMPDIR:-/tmp}/raptorflow-$stamp"
if [ ! -x "$copy/RaptorFlow.Functions" ]; then
  rm -rf "$copy.partial"
  mkdir -p "$copy.partial"
  cp -R "$here/." "$copy.partial/"
  chmod +x "$copy.partial/RaptorFlow.Functions"
  rm -rf "$copy"
  mv "$copy.partial" "$copy"
fi
exec "$copy/RaptorFlow.Functions" "$@"
