#!/usr/bin/env bash
# Runs RaptorFlow locally: Azurite (persisting under .azurite/) and the app in standalone mode.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh

url="${RAPTORFLOW_URL:-http://127.0.0.1:7071}"
mkdir -p .azurite
node node_modules/azurite/dist/src/azurite.js --silent --skipApiVersionCheck --loose \
  --location .azurite --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 &
azurite_pid=$!
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  kill "$azurite_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Local defaults; any of them can be overridden from the environment.
export AzureWebJobsStorage="${AzureWebJobsStorage:-UseDevelopmentStorage=true}"
export Auth__DevIssuer__Enabled="${Auth__DevIssuer__Enabled:-true}"
export Razorpay__WebhookSecret="${Razorpay__WebhookSecret:-local-webhook-secret}"
export Razorpay__KeyId="${Razorpay__KeyId:-rzp_local_key}"
export Razorpay__KeySecret="${Razorpay__KeySecret:-local-key-secret}"
export Razorpay__BaseUrl="${Razorpay__BaseUrl:-http://127.0.0.1:9/}"
# Local receivers (http on loopback) are allowed here only; never in Azure.
export Webhooks__AllowPrivateNetworks="${Webhooks__AllowPrivateNetworks:-true}"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

dotnet build functions/RaptorFlow.Functions -c Debug -nologo -v quiet
echo ""
echo "RaptorFlow is starting at $url  (try: curl $url/api/healthz)"
echo "OpenAPI: $url/api/openapi/v1.json    API playground: $url/api/docs/"
echo "Ctrl-C stops the app and Azurite."
dotnet run --no-build --project functions/RaptorFlow.Functions -- --urls "$url" &
app_pid=$!
wait "$app_pid"
