// The web console (web/dist) on Azure Static Web Apps. It holds only static files: its
// config.json (API URL, Entra client id and authority) is written by azd at deploy time.

param location string
param tags object
param name string

@description('azd service name from azure.yaml; azd finds the app to deploy by this tag.')
param serviceName string

resource site 'Microsoft.Web/staticSites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // azd deploys the built files itself; no repository is linked.
    provider: 'None'
    allowConfigFileUpdates: true
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostname
