// The custom-handler Function App on Flex Consumption (FC1). Every connection is identity-based:
// the settings name the storage account, the vault and the identity, never a key.

param location string
param tags object
param planName string
param name string

@description('azd service name from azure.yaml; azd finds the app to deploy by this tag.')
param serviceName string

param identityId string
param identityClientId string

param storageAccountName string
param deploymentContainerUrl string
param applicationInsightsName string
param keyVaultUri string

@description('Versionless URI of the Key Vault key that wraps the Data Protection key ring.')
param keyRingKeyUri string

@allowed([512, 2048, 4096])
param instanceMemoryMB int

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

param corsAllowedOrigins string[]
@description('Authority host the API validates tokens from: the cloud\'s login endpoint, or https://<tenant>.ciamlogin.com/ for External ID.')
param azureAdInstance string
@description('Tenant id, or organizations for multi-tenant sign-in.')
param azureAdTenantId string
@allowed(['SingleTenant', 'MultiTenant', 'ExternalId'])
param signInAudience string
param allowedTenantIds string[]
param azureAdClientId string
param azureAdAudience string
param razorpayBaseUrl string

@description('Serve the interactive API reference at /api/docs.')
param apiDocsEnabled bool
param invoiceSellerGstin string
param invoiceSellerAddress string
param platformAdminUserIds string[]

@description('The Communication Services endpoint mail is sent through, and the address it is sent from.')
param mailEndpoint string
param mailFromAddress string
@description('The web console\'s URL: links in mail (invitations, invoices) open its screens.')
param mailConsoleUrl string

// Arrays become indexed settings (Cors__AllowedOrigins__0, …), the form .NET configuration binds.
var corsSettings = toObject(range(0, length(corsAllowedOrigins)), i => 'Cors__AllowedOrigins__${i}', i => corsAllowedOrigins[i])
var adminSettings = toObject(
  range(0, length(platformAdminUserIds)),
  i => 'Auth__PlatformAdmins__${i}',
  i => platformAdminUserIds[i]
)

var tenantSettings = toObject(
  range(0, length(allowedTenantIds)),
  i => 'Auth__AllowedTenants__${i}',
  i => allowedTenantIds[i]
)

var settings = {
  // The Functions host and the app both resolve storage from these (identity-based connection).
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // DefaultAzureCredential (Key Vault) picks the user-assigned identity from this.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  KeyVault__Uri: keyVaultUri
  KeyVault__KeyRingKeyUri: keyRingKeyUri
  AzureAd__Instance: azureAdInstance
  AzureAd__TenantId: azureAdTenantId
  AzureAd__ClientId: azureAdClientId
  AzureAd__Audience: azureAdAudience
  Auth__SignInAudience: signInAudience
  Auth__DevIssuer__Enabled: 'false'
  // The host forwards from loopback; the client is the X-Forwarded-For entry the front end appended.
  ApiKeys__TrustForwardedFor: 'true'
  Razorpay__BaseUrl: razorpayBaseUrl
  ApiDocs__Enabled: string(apiDocsEnabled)
  Invoices__SellerGstin: invoiceSellerGstin
  Invoices__SellerAddress: invoiceSellerAddress
  // Mail goes through Azure Communication Services with the identity (AZURE_CLIENT_ID above).
  Mail__Provider: 'AzureCommunicationServices'
  Mail__Acs__Endpoint: mailEndpoint
  Mail__FromAddress: mailFromAddress
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    settings,
    {
      // Identifies the resource and is no credential: ingestion is authorized by the identity's
      // role (Monitoring Metrics Publisher) once local auth is disabled.
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      // Links in mail: the console's screens, and the API's own host for one-click unsubscribe.
      Mail__Links__ConsoleUrl: mailConsoleUrl
      Mail__Links__ApiUrl: 'https://${site.properties.defaultHostName}/'
    },
    corsSettings,
    adminSettings,
    tenantSettings
  )
}

// Publishing is azd's, with Entra ID: no SCM or FTP user name and password can be used.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
