// Key Vault for the Razorpay secrets. Access is Azure RBAC only (no access policies); purge
// protection keeps a deleted vault or secret recoverable. Values are set by ops, never here.

param location string
param tags object
param name string

@description('Name of the app\'s user-assigned identity (in this resource group).')
param appIdentityName string

@description('Principal id of the person deploying (sets secrets); empty for none.')
param deployerPrincipalId string

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string

@description('Give the deployer standing Key Vault Secrets Officer on the vault: for development environments, off for production.')
param deployerDataAccess bool

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: appIdentityName
}

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var keyVaultCryptoServiceEncryptionUser = 'e147488a-f6f5-4113-8e2d-b22465e65bf6'

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Wraps the app's Data Protection key ring (the keys that encrypt recorded idempotent responses):
// the ring's blobs hold only wrapped keys, and the RSA key never leaves the vault.
resource keyRingKey 'Microsoft.KeyVault/vaults/keys@2026-05-15' = {
  parent: vault
  name: 'data-protection-key-ring'
  tags: tags
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
    rotationPolicy: {
      attributes: { expiryTime: 'P2Y' }
      lifetimeActions: [
        {
          trigger: { timeBeforeExpiry: 'P30D' }
          action: { type: 'rotate' }
        }
      ]
    }
  }
}

// Wrap and unwrap with that one key only, not every key in the vault.
resource appWrapsKeyRing 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyRingKey.id, appIdentity.id, keyVaultCryptoServiceEncryptionUser)
  scope: keyRingKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoServiceEncryptionUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSetsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployerDataAccess && !empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
// Versionless: the app wraps new keys with the current version and unwraps with the version named in each.
output keyRingKeyUri string = keyRingKey.properties.keyUri
