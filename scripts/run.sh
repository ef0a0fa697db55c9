#!/usr/bin/env bash
# Runs RaptorFlow locally: Azurite (persisting under .azurite/), MailDev (a development mail
# server whose web inbox shows every mail the app sends), the app in standalone mode and the web
# console (built, served on its own origin). Ctrl-C stops all four.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
bash scripts/bootstrap-web.sh

url="${RAPTORFLOW_URL:-http://127.0.0.1:7071}"
web_url="${RAPTORFLOW_WEB_URL:-http://127.0.0.1:5173}"
mkdir -p .azurite
node node_modules/azurite/dist/src/azurite.js --silent --skipApiVersionCheck --loose \
  --location .azurite --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 &
azurite_pid=$!
# MailDev takes the app's SMTP on loopback and keeps the mail (under .maildev/) for its web inbox.
mail_smtp_port="${RAPTORFLOW_MAIL_SMTP_PORT:-1025}"
mail_web_port="${RAPTORFLOW_MAIL_WEB_PORT:-1080}"
mkdir -p .maildev
node node_modules/maildev/dist/bin/maildev.js --silent --ip 127.0.0.1 --smtp "$mail_smtp_port" \
  --web-ip 127.0.0.1 --web "$mail_web_port" --mail-directory .maildev &
maildev_pid=$!
app_pid=""
web_pid=""
cleanup() {
  [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null || true
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  kill "$maildev_pid" 2>/dev/null || true
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
# Mail goes to MailDev over plain SMTP on loopback.
export Mail__Provider="${Mail__Provider:-Smtp}"
export Mail__FromAddress="${Mail__FromAddress:-noreply@raptorflow.local}"
export Mail__Smtp__Host="${Mail__Smtp__Host:-127.0.0.1}"
export Mail__Smtp__Port="${Mail__Smtp__Port:-$mail_smtp_port}"
export Mail__Smtp__Security="${Mail__Smtp__Security:-None}"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
# The console is another origin (another port): the API's CORS must allow it, and Vite's dev server.
export Cors__AllowedOrigins__0="${Cors__AllowedOrigins__0:-$web_url}"
export Cors__AllowedOrigins__1="${Cors__AllowedOrigins__1:-http://localhost:5173}"

dotnet build functions/RaptorFlow.Functions -c Debug -nologo -v quiet
(cd web && npm run build --silent >/dev/null)
# config.json is served from these arguments: the API URL and, when set, Entra sign-in.
web_port="${web_url##*:}"
web_port="${web_port%%/*}"
web_host="${web_url#*://}"
web_host="${web_host%%:*}"
node web/scripts/serve.mjs --host "$web_host" --port "$web_port" --api-url "$url" \
  ${RAPTORFLOW_ENTRA_CLIENT_ID:+--entra-client-id "$RAPTORFLOW_ENTRA_CLIENT_ID"} \
  ${RAPTORFLOW_ENTRA_AUTHORITY:+--authority "$RAPTORFLOW_ENTRA_AUTHORITY"} \
  ${RAPTORFLOW_API_SCOPE:+--api-scope "$RAPTORFLOW_API_SCOPE"} >/dev/null &
web_pid=$!
echo ""
echo "RaptorFlow is starting at $url  (try: curl $url/api/healthz)"
echo "OpenAPI: $url/api/openapi/v1.json    API playground: $url/api/docs/"
echo "Console: $web_url/  (sign in as any user: the development issuer is on)"
echo "Mail inbox: http://127.0.0.1:$mail_web_port/  (every mail the app sends, over SMTP on 127.0.0.1:$mail_smtp_port)"
echo "Ctrl-C stops the app, the console, MailDev and Azurite."
dotnet run --no-build --project functions/RaptorFlow.Functions -- --urls "$url" &
app_pid=$!
wait "$app_pid"
