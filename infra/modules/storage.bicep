// The one storage account: the Functions host's own state, the deployment package, the app's
// tables, queues and blobs. Shared keys are off: every caller authenticates with Entra ID.

param location string
param tags object
param name string

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Name of the app\'s user-assigned identity (in this resource group).')
param appIdentityName string

@description('Principal id of the person or pipeline deploying; empty for none. It may always read and write the deployment container (the predeploy hook waits for that access).')
param deployerPrincipalId string

@description('Give the deployer standing data access to the whole account (tables, queues, blobs): for development environments, off for production.')
param deployerDataAccess bool

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: appIdentityName
}

// Every table, queue ('-poison': where the host moves a message after maxDequeueCount failures)
// and blob container the app declares, so a deployment never depends on the app creating them.
// tests/RaptorFlow.Tests/Infra compares these lists with the app's own.
var tableNames = [
  'ApiKeyExpiries'
  'ApiKeyHashes'
  'ApiKeyLastUse'
  'ApiKeys'
  'AuditEvents'
  'BillingIndex'
  'CreditNotes'
  'Erasures'
  'EventFeed'
  'EventOutbox'
  'Exports'
  'IdempotencyKeys'
  'InvitationTokens'
  'InvoiceNumbers'
  'Invoices'
  'Ledger'
  'MailSent'
  'OrgPurges'
  'OrgSlugs'
  'Orgs'
  'Payments'
  'PlatformHeartbeat'
  'RateLimits'
  'RazorpayInbox'
  'RazorpayPayments'
  'RazorpayPlans'
  'Subscriptions'
  'UsageEventIds'
  'UsageEvents'
  'UsagePendingHours'
  'UsageTotals'
  'UserOrgs'
  'WebhookEndpoints'
  'WebhookMessages'
]

var queueNames = [
  'api-key-expiry'
  'api-key-expiry-poison'
  'apply-org-retention'
  'apply-org-retention-poison'
  'check-ledger'
  'check-ledger-poison'
  'close-org-period'
  'close-org-period-poison'
  'domain-events'
  'domain-events-poison'
  'erase-user'
  'erase-user-poison'
  'heartbeat'
  'heartbeat-poison'
  'mail-outbox'
  'mail-outbox-poison'
  'purge-org'
  'purge-org-poison'
  'razorpay-events'
  'razorpay-events-poison'
  'rollup-org-usage'
  'rollup-org-usage-poison'
  'webhook-deliveries'
  'webhook-deliveries-poison'
  'webhook-recoveries'
  'webhook-recoveries-poison'
  'write-export'
  'write-export-poison'
]

var containerNames = [
  'data-protection'
  'exports'
  'function-timers'
  'razorpay-inbox'
]

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

// The host keeps its locks and timer schedules in blobs and the app creates its containers, so
// the app owns blob data on the account, not only on the deployment container. Blob Data Owner on
// the account also lets it request user-delegation keys, which sign the exports' download URLs.
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

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
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

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-09-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-09-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-09-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2026-09-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-09-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
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
  for role in deployerRoles: if (deployerDataAccess && !empty(deployerPrincipalId)) {
    name: guid(account.id, deployerPrincipalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
    }
  }
]

// Only the package container, so even a production deployer (no standing data access) can
// publish and the predeploy hook can tell when this run's role assignments have propagated.
resource deployerPublishesPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(deploymentContainer.id, deployerPrincipalId, roles.storageBlobDataContributor)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output deploymentContainerName string = deploymentContainer.name
output queueNames string[] = [for (queueName, i) in queueNames: queues[i].name]
