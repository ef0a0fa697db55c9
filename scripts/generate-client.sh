#!/usr/bin/env bash
# Regenerates the TypeScript client's types (clients/typescript/src/generated/schema.ts) from the
# app's OpenAPI document, written by the app itself (--write-openapi: it starts on a free loopback
# port with its triggers off, writes the document and exits; no Azurite needed). Run it after changing
# any endpoint; a test fails while the committed file is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh

dotnet build functions/RaptorFlow.Functions -c Release -nologo -v quiet
# The development issuer on, as in the tests: its /api/dev/token is part of the local API.
dotnet functions/RaptorFlow.Functions/bin/Release/net10.0/RaptorFlow.Functions.dll \
  --write-openapi clients/typescript/openapi.json --Auth:DevIssuer:Enabled=true \
  --AzureWebJobsStorage="${AzureWebJobsStorage:-UseDevelopmentStorage=true}"
cd clients/typescript
node node_modules/openapi-typescript/bin/cli.js openapi.json --output src/generated/schema.ts
npx tsc -p tsconfig.json
echo "Regenerated clients/typescript/src/generated/schema.ts"
