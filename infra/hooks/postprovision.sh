#!/bin/sh
# After `azd provision`: write the web console's runtime config (web/public/config.json, deployed
# with it), then say where Razorpay must post webhooks and which Key Vault secrets the app still
# needs. Reads azd's environment (the template's outputs); changes nothing in Azure.
set -eu

if [ -n "${WEB_API_URL:-}" ]; then
  config="$(dirname "$0")/../../web/public/config.json"
  mkdir -p "$(dirname "$config")"
  printf '{\n  "apiUrl": "%s",\n  "entraClientId": "%s",\n  "authority": "%s",\n  "apiScope": "%s"\n}\n' \
    "$WEB_API_URL" "${WEB_ENTRA_CLIENT_ID:-}" "${WEB_ENTRA_AUTHORITY:-}" "${WEB_API_SCOPE:-}" > "$config"
  echo "Web console:             ${WEB_URL:-?}  (config written to web/public/config.json)"
fi

echo "RaptorFlow API:          ${API_BASE_URL:-?}"
echo "Razorpay webhook URL:    ${RAZORPAY_WEBHOOK_URL:-?}"
echo "Key Vault:               ${AZURE_KEY_VAULT_NAME:-?}"

if ! command -v az >/dev/null 2>&1 || [ -z "${AZURE_KEY_VAULT_NAME:-}" ]; then
  echo "Set the Razorpay secrets as README.md (Deploy to Azure) describes."
  exit 0
fi

for name in razorpay-key-id razorpay-key-secret razorpay-webhook-secret; do
  if ! az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name "$name" --query id -o none >/dev/null 2>&1; then
    echo "Missing Key Vault secret $name in $AZURE_KEY_VAULT_NAME (README: Deploy to Azure, Razorpay secrets)"
  fi
done
