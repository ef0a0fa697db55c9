# Before `azd provision`: refuse an azd older than the parameters need (array parameters from
# strings in main.parameters.json, such as CORS_ALLOWED_ORIGINS, need azd 1.23.4).
$ErrorActionPreference = 'Stop'

$minimum = [version]'1.23.4'
$text = (azd version 2>$null | Out-String)
if ($text -notmatch '(\d+\.\d+\.\d+)') {
  Write-Host "preprovision: could not read the azd version; azd $minimum or newer is required."
  exit 1
}

$version = [version]$Matches[1]
if ($version -lt $minimum) {
  Write-Host "preprovision: azd $version is too old; RaptorFlow needs azd $minimum or newer (https://aka.ms/azd)."
  exit 1
}
Write-Host "preprovision: azd $version (at least $minimum)."
