// RaptorFlow on Azure, deployed by `azd up`: one resource group per azd environment holding the
// custom-handler Function App (Flex Consumption), its storage, Key Vault and telemetry. Every
// data-plane connection uses the app's user-assigned identity; no key or secret is in a setting.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource: one that offers Flex Consumption.')
@allowed([
  'australiaeast'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'northcentralus'
  'northeurope'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'uksouth'
  'westcentralus'
  'westeurope'
  'westus2'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person or pipeline running azd, given data access for local development and to set Key Vault secrets. Empty for none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Give principalId standing data access (storage tables, queues, blobs; Key Vault Secrets Officer). For development environments; false for production.')
param deployerDataAccess bool = true

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound on Flex Consumption instances (caps cost and the load on storage). 40, the least Flex Consumption allows: the month-end close queues on one invoice-number counter, which more instances only contend for (README, Performance: scale-out settings).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('SPA origins allowed to call the API from a browser.')
param corsAllowedOrigins string[] = []

@description('Region of the web console\'s Static Web App (offered in fewer regions than Functions).')
@allowed([
  'centralus'
  'eastasia'
  'eastus2'
  'westeurope'
  'westus2'
])
param webLocation string = 'eastus2'

@description('Entra ID tenant that issues the SPA tokens (SingleTenant).')
param azureAdTenantId string = tenant().tenantId

@description('Whose users may sign in: the operator\'s tenant (SingleTenant), any or allowed organizations\' Entra tenants (MultiTenant), or one Entra External ID tenant\'s consumers and guests (ExternalId).')
@allowed(['SingleTenant', 'MultiTenant', 'ExternalId'])
param signInAudience string = 'SingleTenant'

@description('MultiTenant only: the Entra tenant ids admitted; empty admits every organization.')
param allowedTenantIds string[] = []

@description('ExternalId only: the External ID tenant\'s subdomain (<name> in <name>.ciamlogin.com).')
param externalIdTenantName string = ''

@description('ExternalId only: the External ID tenant\'s id.')
param externalIdTenantId string = ''

@minLength(1)
@description('Application (client) id of the API\'s Entra ID app registration.')
param azureAdClientId string

@description('Audience the API accepts in bearer tokens; api://<client id> when empty.')
param azureAdAudience string = ''

@description('Application (client) id the web console signs in with (an app registration with a SPA redirect URI of WEB_URL); the API\'s own when empty.')
param webClientId string = ''

@description('Razorpay REST API base URL.')
param razorpayBaseUrl string = 'https://api.razorpay.com/v1/'

@description('Serve the interactive API reference (Scalar) at /api/docs in Azure; off unless asked for.')
param apiDocsEnabled bool = false

@description('Seller GSTIN printed on tax invoices.')
param invoiceSellerGstin string = ''

@description('Seller address printed on tax invoices.')
param invoiceSellerAddress string = ''

@description('Entra ID object ids (oid) of platform administrators.')
param platformAdminUserIds string[] = []

@description('Refuse Application Insights telemetry not authenticated with Entra ID (the host and the app both send it with the identity).')
param appInsightsDisableLocalAuth bool = true

@description('Where Azure Communication Services keeps email data at rest (an ACS data location).')
param emailDataLocation string = 'India'

@description('Address the operations alerts (poison messages, stuck webhooks, failed invoice runs, 5xx, ledger imbalance, suspense) are mailed to; empty for none.')
param alertEmail string = ''

var serviceName = 'api'
var webServiceName = 'web'
// The authority the API validates and the console signs in with, by sign-in audience.
var azureAdInstance = signInAudience == 'ExternalId' ? 'https://${externalIdTenantName}.ciamlogin.com/' : environment().authentication.loginEndpoint
var apiTenantId = signInAudience == 'MultiTenant' ? 'organizations' : signInAudience == 'ExternalId' ? externalIdTenantId : azureAdTenantId
var apiAudience = empty(azureAdAudience) ? 'api://${azureAdClientId}' : azureAdAudience
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'
var identityName = 'id-${resourceToken}'
var applicationInsightsName = 'appi-${resourceToken}'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: identityName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  dependsOn: [identity]
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    disableLocalAuth: appInsightsDisableLocalAuth
    appIdentityName: identityName
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: resourceGroup
  dependsOn: [monitoring]
  params: {
    location: location
    tags: tags
    applicationInsightsName: applicationInsightsName
    alertEmail: alertEmail
    namePrefix: resourceToken
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  dependsOn: [identity]
  params: {
    location: location
    tags: tags
    name: 'st${resourceToken}'
    deploymentContainerName: 'app-package-${resourceToken}'
    appIdentityName: identityName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    deployerDataAccess: deployerDataAccess
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  dependsOn: [identity]
  params: {
    location: location
    tags: tags
    name: 'kv-${resourceToken}'
    appIdentityName: identityName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    deployerDataAccess: deployerDataAccess
  }
}

module email 'modules/email.bicep' = {
  name: 'email'
  scope: resourceGroup
  dependsOn: [identity]
  params: {
    tags: tags
    communicationName: 'acs-${resourceToken}'
    emailServiceName: 'ecs-${resourceToken}'
    dataLocation: emailDataLocation
    appIdentityName: identityName
  }
}

module web 'modules/static-web-app.bicep' = {
  name: 'static-web-app'
  scope: resourceGroup
  params: {
    location: webLocation
    tags: tags
    name: 'swa-${resourceToken}'
    serviceName: webServiceName
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: resourceGroup
  dependsOn: [monitoring]
  params: {
    location: location
    tags: tags
    planName: 'plan-${resourceToken}'
    name: functionAppName
    serviceName: serviceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsName: applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    keyRingKeyUri: keyVault.outputs.keyRingKeyUri
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    // The console's own origin is always allowed, beside any the operator lists.
    corsAllowedOrigins: union(corsAllowedOrigins, ['https://${web.outputs.defaultHostName}'])
    mailConsoleUrl: 'https://${web.outputs.defaultHostName}/'
    azureAdInstance: azureAdInstance
    azureAdTenantId: apiTenantId
    signInAudience: signInAudience
    allowedTenantIds: allowedTenantIds
    azureAdClientId: azureAdClientId
    azureAdAudience: apiAudience
    razorpayBaseUrl: razorpayBaseUrl
    apiDocsEnabled: apiDocsEnabled
    invoiceSellerGstin: invoiceSellerGstin
    invoiceSellerAddress: invoiceSellerAddress
    platformAdminUserIds: platformAdminUserIds
    mailEndpoint: email.outputs.endpoint
    mailFromAddress: email.outputs.senderAddress
  }
}

// azd stores these in the environment (.azure/<env>/.env); the README's deploy steps use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output WEB_URL string = 'https://${web.outputs.defaultHostName}'
output AZURE_STATIC_WEB_APP_NAME string = web.outputs.name
// The console's runtime config.json, written from these by the postprovision hook.
output WEB_API_URL string = 'https://${functionApp.outputs.defaultHostName}'
output WEB_ENTRA_CLIENT_ID string = empty(webClientId) ? azureAdClientId : webClientId
output WEB_ENTRA_AUTHORITY string = '${azureAdInstance}${apiTenantId}'
output AUTH_SIGN_IN_AUDIENCE string = signInAudience
output WEB_API_SCOPE string = '${apiAudience}/.default'
output RAZORPAY_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/v1/webhooks/razorpay'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_QUEUES string[] = storage.outputs.queueNames
output AZURE_DEPLOYMENT_CONTAINER_NAME string = storage.outputs.deploymentContainerName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
