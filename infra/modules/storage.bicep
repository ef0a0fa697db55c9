// The one storage account: the Functions host's own state, the deployment package, the app's
// tables, queues and blobs. Shared keys are off: every caller authenticates with Entra ID.

param location string
param tags object
param name string

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Name of the app\'s user-assigned identity (in this resource group).')
param appIdentityName string

@description('Principal id of the person deploying (for local development against this account); empty for none.')
param deployerPrincipalId string

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string

// Queues the app declares and the Functions host listens to; '-poison' is where the host moves a
// message after maxDequeueCount failures. Tables are created by the app at start-up.
resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: appIdentityName
}

var queueNames = [
  'razorpay-events'
  'razorpay-events-poison'
]

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

// The host keeps its locks and timer schedules in blobs and the app creates its containers, so
// the app owns blob data on the account, not only on the deployment container.
var appRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

var deployerRoles = [
  roles.storageBlobDataContributor
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource appAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in appRoles: {
    name: guid(account.id, appIdentity.id, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: appIdentity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource deployerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in deployerRoles: if (!empty(deployerPrincipalId)) {
    name: guid(account.id, deployerPrincipalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
    }
  }
]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output queueNames string[] = [for (queueName, i) in queueNames: queues[i].name]
