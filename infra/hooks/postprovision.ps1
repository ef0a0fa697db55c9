# After `azd provision`: write the web console's runtime config (web/public/config.json, deployed
# with it), then say where Razorpay must post webhooks and which Key Vault secrets the app still
# needs. Reads azd's environment (the template's outputs); changes nothing in Azure.
$ErrorActionPreference = 'Stop'

if ($env:WEB_API_URL) {
  $config = Join-Path $PSScriptRoot '../../web/public/config.json'
  New-Item -ItemType Directory -Force -Path (Split-Path $config) | Out-Null
  [ordered]@{
    apiUrl        = $env:WEB_API_URL
    entraClientId = $env:WEB_ENTRA_CLIENT_ID
    authority     = $env:WEB_ENTRA_AUTHORITY
    apiScope      = $env:WEB_API_SCOPE
  } | ConvertTo-Json | Set-Content -Encoding utf8 $config
  Write-Host "Web console:             $env:WEB_URL  (config written to web/public/config.json)"
}

Write-Host "RaptorFlow API:          $env:API_BASE_URL"
Write-Host "Razorpay webhook URL:    $env:RAZORPAY_WEBHOOK_URL"
Write-Host "Key Vault:               $env:AZURE_KEY_VAULT_NAME"

if (-not (Get-Command az -ErrorAction SilentlyContinue) -or -not $env:AZURE_KEY_VAULT_NAME) {
  Write-Host 'Set the Razorpay secrets as README.md (Deploy to Azure) describes.'
  exit 0
}

foreach ($name in 'razorpay-key-id', 'razorpay-key-secret', 'razorpay-webhook-secret') {
  az keyvault secret show --vault-name $env:AZURE_KEY_VAULT_NAME --name $name --query id -o none 2>$null | Out-Null
  if ($LASTEXITCODE -ne 0) {
    Write-Host "Missing Key Vault secret $name in $env:AZURE_KEY_VAULT_NAME (README: Deploy to Azure, Razorpay secrets)"
  }
}
