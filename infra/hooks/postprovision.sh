#!/bin/sh
# After `azd provision`: write the web console's runtime config (web/public/config.json, deployed
# with it), then say where Razorpay must post webhooks and which Key Vault secrets the app still
# needs; bring the Entra app registrations in line with AUTH_SIGN_IN_AUDIENCE where the signed-in
# account may, or print the exact steps (README: Sign-in). Never fails the deployment over them.
set -eu

audience="${AUTH_SIGN_IN_AUDIENCE:-SingleTenant}"

if [ -n "${WEB_API_URL:-}" ]; then
  # The console signs in at the authority the API validates: organizations for multi-tenant, the
  # External ID tenant's ciamlogin.com host for External ID (the template's output says the same).
  case "$audience" in
    MultiTenant) authority="https://login.microsoftonline.com/organizations" ;;
    ExternalId) authority="https://${AUTH_EXTERNAL_ID_TENANT_NAME:-}.ciamlogin.com/${AUTH_EXTERNAL_ID_TENANT_ID:-}" ;;
    *) authority="${WEB_ENTRA_AUTHORITY:-}" ;;
  esac
  config="${WEB_CONFIG_PATH:-$(dirname "$0")/../../web/public/config.json}"
  mkdir -p "$(dirname "$config")"
  printf '{\n  "apiUrl": "%s",\n  "entraClientId": "%s",\n  "authority": "%s",\n  "apiScope": "%s"\n}\n' \
    "$WEB_API_URL" "${WEB_ENTRA_CLIENT_ID:-}" "$authority" "${WEB_API_SCOPE:-}" > "$config"
  echo "Web console:             ${WEB_URL:-?}  (config written to web/public/config.json)"
fi

echo "RaptorFlow API:          ${API_BASE_URL:-?}"
echo "Razorpay webhook URL:    ${RAZORPAY_WEBHOOK_URL:-?}"
echo "Key Vault:               ${AZURE_KEY_VAULT_NAME:-?}"

# App registrations. Every step is idempotent (PATCH to fixed values, scope id kept once made).
api_app="${AZURE_AD_CLIENT_ID:-}"
spa_app="${AZURE_AD_WEB_CLIENT_ID:-$api_app}"
case "$audience" in
  MultiTenant) app_audience=AzureADMultipleOrgs ;;
  *) app_audience=AzureADMyOrg ;;
esac
registration_steps() {
  echo "App registrations were not updated ($1). Do this once, in the ${2:-operator's} tenant (README: Sign-in):"
  echo "  1. API app ${api_app:-<AZURE_AD_CLIENT_ID>}: signInAudience $app_audience; Application ID URI api://${api_app:-<client id>};"
  echo "     expose the delegated scope access_as_user; manifest api.requestedAccessTokenVersion = 2."
  echo "  2. SPA app ${spa_app:-<AZURE_AD_WEB_CLIENT_ID>}: signInAudience $app_audience; Single-page application redirect URIs"
  echo "     ${WEB_URL:-<WEB_URL>} and http://127.0.0.1:5173; API permission access_as_user on the API app (granted)."
}
register_apps() {
  if [ -z "$api_app" ]; then registration_steps "AZURE_AD_CLIENT_ID is not set"; return 0; fi
  if ! command -v az >/dev/null 2>&1; then registration_steps "az is not installed"; return 0; fi
  if [ "$audience" = ExternalId ]; then
    signed_in=$(az account show --query tenantId -o tsv 2>/dev/null || true)
    if [ "$signed_in" != "${AUTH_EXTERNAL_ID_TENANT_ID:-}" ]; then
      registration_steps "az is not signed in to the External ID tenant" "External ID"
      return 0
    fi
  fi
  scope_id=$(az ad app show --id "$api_app" --query "api.oauth2PermissionScopes[?value=='access_as_user'].id | [0]" -o tsv 2>/dev/null) || {
    registration_steps "the signed-in account cannot read app $api_app"; return 0; }
  if [ -z "$scope_id" ]; then
    scope_id=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)
  fi
  graph="https://graph.microsoft.com/v1.0/applications(appId='$api_app')"
  body=$(printf '{"signInAudience":"%s","identifierUris":["api://%s"],"api":{"requestedAccessTokenVersion":2,"oauth2PermissionScopes":[{"id":"%s","value":"access_as_user","type":"User","isEnabled":true,"adminConsentDisplayName":"Call RaptorFlow as the signed-in user","adminConsentDescription":"Call the RaptorFlow API as the signed-in user.","userConsentDisplayName":"Call RaptorFlow as you","userConsentDescription":"Call the RaptorFlow API as you."}]}}' "$app_audience" "$api_app" "$scope_id")
  if ! az rest --method PATCH --uri "$graph" --headers Content-Type=application/json --body "$body" >/dev/null 2>&1; then
    registration_steps "the signed-in account may not change app $api_app"; return 0
  fi
  redirects="\"http://127.0.0.1:5173\""
  if [ -n "${WEB_URL:-}" ]; then redirects="\"$WEB_URL\",$redirects"; fi
  spa_body=$(printf '{"signInAudience":"%s","spa":{"redirectUris":[%s]}}' "$app_audience" "$redirects")
  if ! az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications(appId='$spa_app')" --headers Content-Type=application/json --body "$spa_body" >/dev/null 2>&1 \
    || { [ "$spa_app" != "$api_app" ] && ! az ad app permission add --id "$spa_app" --api "$api_app" --api-permissions "$scope_id=Scope" >/dev/null 2>&1; }; then
    registration_steps "the signed-in account may not change app $spa_app"; return 0
  fi
  echo "App registrations:       $api_app (API) and $spa_app (console) set for $audience sign-in"
}
register_apps

if ! command -v az >/dev/null 2>&1 || [ -z "${AZURE_KEY_VAULT_NAME:-}" ]; then
  echo "Set the Razorpay secrets as README.md (Deploy to Azure) describes."
  exit 0
fi

for name in razorpay-key-id razorpay-key-secret razorpay-webhook-secret; do
  if ! az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name "$name" --query id -o none >/dev/null 2>&1; then
    echo "Missing Key Vault secret $name in $AZURE_KEY_VAULT_NAME (README: Deploy to Azure, Razorpay secrets)"
  fi
done
