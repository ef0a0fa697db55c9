#!/bin/sh
# The Functions host starts the custom handler as `/bin/sh launch.sh` (host.json), so the app
# starts even when the deployment zip dropped the Unix execute bit of the handler executable.
set -e
here=$(cd "$(dirname "$0")" && pwd)
app="$here/RaptorFlow.Functions"

if [ -x "$app" ] || chmod +x "$app" 2>/dev/null; then
  exec "$app" "$@"
fi

# The package is mounted read-only (Flex Consumption runs from the package). Only the small
# apphost needs the execute bit: run a copy of it beside links to everything else, so start-up
# copies kilobytes, not the self-contained package. Keyed by the build (build.id, written at
# publish from the app assembly's hash), so a copy left by an older deployment is never run.
build=$(cat "$here/build.id" 2>/dev/null || cksum < "$here/RaptorFlow.Functions.dll" | cut -d ' ' -f 1)
copy="${TMPDIR:-/tmp}/raptorflow-$build"
if [ ! -x "$copy/RaptorFlow.Functions" ]; then
  rm -rf "$copy"
  partial="$copy.partial.$$"
  rm -rf "$partial"
  mkdir -p "$partial"
  # One ln for all entries: a process per entry would cost seconds on a small instance.
  ln -s "$here"/* "$partial/" || cp -R "$here/." "$partial/"
  rm -f "$partial/RaptorFlow.Functions"
  cp "$app" "$partial/RaptorFlow.Functions"
  chmod +x "$partial/RaptorFlow.Functions"
  # Another start may have finished first; either copy is the same build.
  mv -T "$partial" "$copy" 2>/dev/null || rm -rf "$partial"
fi
exec "$copy/RaptorFlow.Functions" "$@"
