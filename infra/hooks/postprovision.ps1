# After `azd provision`: write the web console's runtime config (web/public/config.json, deployed
# with it), then say where Razorpay must post webhooks and which Key Vault secrets the app still
# needs; bring the Entra app registrations in line with AUTH_SIGN_IN_AUDIENCE where the signed-in
# account may, or print the exact steps (README: Sign-in). Never fails the deployment over them.
$ErrorActionPreference = 'Stop'

$audience = if ($env:AUTH_SIGN_IN_AUDIENCE) { $env:AUTH_SIGN_IN_AUDIENCE } else { 'SingleTenant' }

if ($env:WEB_API_URL) {
  # The console signs in at the authority the API validates: organizations for multi-tenant, the
  # External ID tenant's ciamlogin.com host for External ID (the template's output says the same).
  $authority = switch ($audience) {
    'MultiTenant' { 'https://login.microsoftonline.com/organizations' }
    'ExternalId' { "https://$($env:AUTH_EXTERNAL_ID_TENANT_NAME).ciamlogin.com/$($env:AUTH_EXTERNAL_ID_TENANT_ID)" }
    default { $env:WEB_ENTRA_AUTHORITY }
  }
  $config = if ($env:WEB_CONFIG_PATH) { $env:WEB_CONFIG_PATH } else { Join-Path $PSScriptRoot '../../web/public/config.json' }
  New-Item -ItemType Directory -Force -Path (Split-Path $config) | Out-Null
  [ordered]@{
    apiUrl        = $env:WEB_API_URL
    entraClientId = $env:WEB_ENTRA_CLIENT_ID
    authority     = $authority
    apiScope      = $env:WEB_API_SCOPE
  } | ConvertTo-Json | Set-Content -Encoding utf8 $config
  Write-Host "Web console:             $env:WEB_URL  (config written to web/public/config.json)"
}

Write-Host "RaptorFlow API:          $env:API_BASE_URL"
Write-Host "Razorpay webhook URL:    $env:RAZORPAY_WEBHOOK_URL"
Write-Host "Key Vault:               $env:AZURE_KEY_VAULT_NAME"

# App registrations. Every step is idempotent (PATCH to fixed values, scope id kept once made).
$apiApp = $env:AZURE_AD_CLIENT_ID
$spaApp = if ($env:AZURE_AD_WEB_CLIENT_ID) { $env:AZURE_AD_WEB_CLIENT_ID } else { $apiApp }
$appAudience = if ($audience -eq 'MultiTenant') { 'AzureADMultipleOrgs' } else { 'AzureADMyOrg' }
function Write-RegistrationSteps([string]$why, [string]$tenant = "operator's") {
  Write-Host "App registrations were not updated ($why). Do this once, in the $tenant tenant (README: Sign-in):"
  Write-Host "  1. API app $($apiApp ?? '<AZURE_AD_CLIENT_ID>'): signInAudience $appAudience; Application ID URI api://$($apiApp ?? '<client id>');"
  Write-Host '     expose the delegated scope access_as_user; manifest api.requestedAccessTokenVersion = 2.'
  Write-Host "  2. SPA app $($spaApp ?? '<AZURE_AD_WEB_CLIENT_ID>'): signInAudience $appAudience; Single-page application redirect URIs"
  Write-Host "     $($env:WEB_URL ?? '<WEB_URL>') and http://127.0.0.1:5173; API permission access_as_user on the API app (granted)."
}
function Register-Apps {
  if (-not $apiApp) { Write-RegistrationSteps 'AZURE_AD_CLIENT_ID is not set'; return }
  if (-not (Get-Command az -ErrorAction SilentlyContinue)) { Write-RegistrationSteps 'az is not installed'; return }
  if ($audience -eq 'ExternalId') {
    $signedIn = az account show --query tenantId -o tsv 2>$null
    if ($signedIn -ne $env:AUTH_EXTERNAL_ID_TENANT_ID) { Write-RegistrationSteps 'az is not signed in to the External ID tenant' 'External ID'; return }
  }
  $scopeId = az ad app show --id $apiApp --query "api.oauth2PermissionScopes[?value=='access_as_user'].id | [0]" -o tsv 2>$null
  if ($LASTEXITCODE -ne 0) { Write-RegistrationSteps "the signed-in account cannot read app $apiApp"; return }
  if (-not $scopeId) { $scopeId = [guid]::NewGuid().ToString() }
  $body = @{
    signInAudience = $appAudience
    identifierUris = @("api://$apiApp")
    api            = @{
      requestedAccessTokenVersion = 2
      oauth2PermissionScopes      = @(@{
          id = $scopeId; value = 'access_as_user'; type = 'User'; isEnabled = $true
          adminConsentDisplayName = 'Call RaptorFlow as the signed-in user'; adminConsentDescription = 'Call the RaptorFlow API as the signed-in user.'
          userConsentDisplayName = 'Call RaptorFlow as you'; userConsentDescription = 'Call the RaptorFlow API as you.'
        })
    }
  } | ConvertTo-Json -Depth 5 -Compress
  $bodyFile = New-TemporaryFile
  Set-Content -Path $bodyFile -Value $body -Encoding utf8
  az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications(appId='$apiApp')" --headers Content-Type=application/json --body "@$bodyFile" 2>$null | Out-Null
  $apiOk = $LASTEXITCODE -eq 0
  $redirects = @('http://127.0.0.1:5173')
  if ($env:WEB_URL) { $redirects = @($env:WEB_URL) + $redirects }
  Set-Content -Path $bodyFile -Value (@{ signInAudience = $appAudience; spa = @{ redirectUris = $redirects } } | ConvertTo-Json -Depth 5 -Compress) -Encoding utf8
  if ($apiOk) {
    az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications(appId='$spaApp')" --headers Content-Type=application/json --body "@$bodyFile" 2>$null | Out-Null
  }
  $spaOk = $apiOk -and $LASTEXITCODE -eq 0
  if ($spaOk -and $spaApp -ne $apiApp) {
    az ad app permission add --id $spaApp --api $apiApp --api-permissions "$scopeId=Scope" 2>$null | Out-Null
    $spaOk = $LASTEXITCODE -eq 0
  }
  Remove-Item $bodyFile
  if (-not $apiOk) { Write-RegistrationSteps "the signed-in account may not change app $apiApp"; return }
  if (-not $spaOk) { Write-RegistrationSteps "the signed-in account may not change app $spaApp"; return }
  Write-Host "App registrations:       $apiApp (API) and $spaApp (console) set for $audience sign-in"
}
Register-Apps

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
