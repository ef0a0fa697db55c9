# Before `azd deploy`: wait until this run's storage role assignments have propagated, so the
# package upload to the deployment container does not fail with 403 (Azure/azure-dev#8026).
# Same probe and bounds as predeploy.sh: PREDEPLOY_MAX_ATTEMPTS (40) probes,
# PREDEPLOY_INTERVAL_SECONDS (15) apart.
$ErrorActionPreference = 'Stop'

$attempts = if ($env:PREDEPLOY_MAX_ATTEMPTS) { [int]$env:PREDEPLOY_MAX_ATTEMPTS } else { 40 }
$interval = if ($env:PREDEPLOY_INTERVAL_SECONDS) { [int]$env:PREDEPLOY_INTERVAL_SECONDS } else { 15 }
$account = $env:AZURE_STORAGE_ACCOUNT_NAME
$container = $env:AZURE_DEPLOYMENT_CONTAINER_NAME

if (-not $account -or -not $container) {
  Write-Error "predeploy: AZURE_STORAGE_ACCOUNT_NAME or AZURE_DEPLOYMENT_CONTAINER_NAME is not set; run 'azd provision' first."
  exit 1
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Host 'predeploy: the Azure CLI (az) is not installed, so storage access cannot be checked; deploying anyway.'
  exit 0
}

# azd signs in on its own; an az that is not signed in could never be let in, however long it waited.
az account show -o none 2>$null | Out-Null
if ($LASTEXITCODE -ne 0) {
  Write-Host "predeploy: the Azure CLI is not signed in ('az login'), so storage access cannot be checked; deploying anyway."
  exit 0
}

for ($attempt = 1; ; $attempt++) {
  az storage blob list --account-name $account --container-name $container --auth-mode login --num-results 1 -o none 2>$null | Out-Null
  if ($LASTEXITCODE -eq 0) {
    Write-Host "predeploy: the deployment container $container is reachable (attempt $attempt)."
    exit 0
  }
  if ($attempt -ge $attempts) {
    Write-Host "predeploy: the deployment container $container in $account was still refused after $attempts attempts."
    Write-Host "predeploy: role assignments can take longer to propagate; wait a few minutes and run 'azd deploy' (README: Deploy to Azure, Recovering)."
    exit 1
  }
  Write-Host "predeploy: waiting for storage role assignments to propagate (attempt $attempt of $attempts)..."
  Start-Sleep -Seconds $interval
}
