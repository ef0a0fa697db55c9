#!/bin/sh
# Before `azd deploy`: wait until this run's storage role assignments have propagated, so the
# package upload to the deployment container does not fail with 403 (Azure/azure-dev#8026).
# Shared keys are off, and the roles were created moments ago by `azd provision`; azd does not
# retry the upload. Probes the container with the deployer's own Entra ID login, granted in the
# same deployment as the app identity's roles. Bounded: PREDEPLOY_MAX_ATTEMPTS probes (default
# 40), PREDEPLOY_INTERVAL_SECONDS apart (default 15), about 10 minutes.
set -eu

attempts=${PREDEPLOY_MAX_ATTEMPTS:-40}
interval=${PREDEPLOY_INTERVAL_SECONDS:-15}
account=${AZURE_STORAGE_ACCOUNT_NAME:-}
container=${AZURE_DEPLOYMENT_CONTAINER_NAME:-}

if [ -z "$account" ] || [ -z "$container" ]; then
  echo "predeploy: AZURE_STORAGE_ACCOUNT_NAME or AZURE_DEPLOYMENT_CONTAINER_NAME is not set; run 'azd provision' first." >&2
  exit 1
fi

if ! command -v az >/dev/null 2>&1; then
  echo "predeploy: the Azure CLI (az) is not installed, so storage access cannot be checked; deploying anyway."
  exit 0
fi

# azd signs in on its own; an az that is not signed in could never be let in, however long it waited.
if ! az account show -o none >/dev/null 2>&1; then
  echo "predeploy: the Azure CLI is not signed in ('az login'), so storage access cannot be checked; deploying anyway."
  exit 0
fi

attempt=1
while :; do
  if az storage blob list --account-name "$account" --container-name "$container" --auth-mode login --num-results 1 -o none >/dev/null 2>&1; then
    echo "predeploy: the deployment container $container is reachable (attempt $attempt)."
    exit 0
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    echo "predeploy: the deployment container $container in $account was still refused after $attempts attempts." >&2
    echo "predeploy: role assignments can take longer to propagate; wait a few minutes and run 'azd deploy' (README: Deploy to Azure, Recovering)." >&2
    exit 1
  fi
  echo "predeploy: waiting for storage role assignments to propagate (attempt $attempt of $attempts)..."
  attempt=$((attempt + 1))
  sleep "$interval"
done
