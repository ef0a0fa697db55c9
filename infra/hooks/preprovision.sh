#!/bin/sh
# Before `azd provision`: refuse an azd older than the parameters need (array parameters from
# strings in main.parameters.json, such as CORS_ALLOWED_ORIGINS, need azd 1.23.4).
set -eu

minimum=1.23.4
version=$(azd version 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)
if [ -z "$version" ]; then
  echo "preprovision: could not read the azd version; azd $minimum or newer is required." >&2
  exit 1
fi

oldest=$(printf '%s\n%s\n' "$minimum" "$version" | sort -t . -k 1,1n -k 2,2n -k 3,3n | head -n 1)
if [ "$oldest" != "$minimum" ]; then
  echo "preprovision: azd $version is too old; RaptorFlow needs azd $minimum or newer (https://aka.ms/azd)." >&2
  exit 1
fi
echo "preprovision: azd $version (at least $minimum)."
