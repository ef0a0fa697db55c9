// What ops are told about, and the workbook they look at: log alerts over the app's raptorflow.*
// metrics (customMetrics) and requests in Application Insights, sent to one action group.

param location string
param tags object

@description('Name of the Application Insights component the alerts query and the workbook reads.')
param applicationInsightsName string

@description('Address the alerts are mailed to; no receiver when empty (the alerts still fire in the portal).')
param alertEmail string

@description('Prefix of the alert rule names.')
param namePrefix string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'raptorflow'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'ops'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// Each rule: a query that returns a row per breach (timeAggregation Count > 0).
var rules = [
  {
    name: 'poison-queue'
    displayName: 'A message is in a poison queue'
    description: 'A queue message failed 5 times and was moved to <queue>-poison. Runbook: README, "Poisoned webhook".'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'customMetrics | where name == "raptorflow.queue.depth" | extend queue = tostring(customDimensions.queue) | where queue endswith "-poison" | summarize depth = max(value) by queue | where depth > 0'
  }
  {
    name: 'webhook-inbox-age'
    displayName: 'A webhook event has waited more than 15 minutes'
    description: 'The oldest Razorpay event not processed or ignored was received over 15 minutes ago.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'customMetrics | where name == "raptorflow.webhooks.inbox.oldest_unsettled_age" | summarize age = max(value) | where age > 900'
  }
  {
    name: 'invoice-run-failed'
    displayName: 'GenerateInvoices or an org close failed'
    description: 'A GenerateInvoices run or a CloseOrgPeriod invocation failed. Runbook: README, "Invoice run failed for some orgs".'
    severity: 1
    frequency: 'PT15M'
    window: 'PT15M'
    query: 'customMetrics | where (name == "raptorflow.function.duration" and tostring(customDimensions.outcome) == "failed" and tostring(customDimensions.function) in ("GenerateInvoices", "CloseOrgPeriod")) or name == "raptorflow.invoices.close_failures" | summarize failures = sum(valueCount) | where failures > 0'
  }
  {
    name: 'server-errors'
    displayName: 'More than 1% of requests failed with 5xx'
    description: 'Over 5 minutes, more than 1% of HTTP requests answered 5xx. A 503 with code storage.unavailable is storage throttling: README, "Storage throttling".'
    severity: 1
    frequency: 'PT5M'
    window: 'PT5M'
    query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total > 0 and failed * 100.0 / total > 1'
  }
  {
    name: 'ledger-inconsistent'
    displayName: 'A ledger failed the consistency check'
    description: 'The daily CheckLedger found a balance row that is not the sum of its lines, or a trial balance that does not net to zero. The error log names the ledger.'
    severity: 0
    frequency: 'PT1H'
    window: 'PT1H'
    query: 'customMetrics | where name == "raptorflow.ledger.consistency.imbalances" | summarize imbalances = sum(value) | where imbalances > 0'
  }
  {
    name: 'suspense-held'
    displayName: 'Money has been in suspense for 24 hours'
    description: 'The suspense balance stayed above 0 for a whole day. Runbook: README, "Suspense money".'
    severity: 2
    frequency: 'PT1H'
    window: 'P1D'
    query: 'customMetrics | where name == "raptorflow.ledger.suspense.balance" | extend currency = tostring(customDimensions.currency) | summarize lowest = min(value), since = min(timestamp) by currency | where lowest > 0 and since < ago(23h)'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      scopes: [applicationInsights.id]
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]

// The workbook's queries; one query step each, in this order.
var panels = [
  {
    title: 'Requests by route: rate, latency, errors'
    query: 'requests | summarize requests = count(), p95_ms = percentile(duration, 95), errors_5xx = countif(toint(resultCode) >= 500) by route = name | order by requests desc'
    visualization: 'table'
  }
  {
    title: 'Webhook pipeline'
    query: 'customMetrics | where name in ("raptorflow.webhooks.received", "raptorflow.webhooks.processed") | extend outcome = strcat(name, " ", tostring(customDimensions.outcome)) | summarize events = sum(value) by outcome, bin(timestamp, 15m) | render timechart'
    visualization: 'timechart'
  }
  {
    title: 'Webhook inbox: oldest unsettled event (s)'
    query: 'customMetrics | where name == "raptorflow.webhooks.inbox.oldest_unsettled_age" | summarize age = max(value) by bin(timestamp, 5m) | render timechart'
    visualization: 'timechart'
  }
  {
    title: 'Billing: invoiced and collected (minor units), invoices, payment links'
    query: 'customMetrics | where name in ("raptorflow.billing.invoiced", "raptorflow.billing.collected", "raptorflow.invoices.issued", "raptorflow.invoices.close_failures", "raptorflow.payment_links") | extend series = strcat(name, " ", tostring(customDimensions.currency), tostring(customDimensions.outcome), tostring(customDimensions.stage)) | summarize total = sum(value) by series, bin(timestamp, 1d) | render columnchart'
    visualization: 'barchart'
  }
  {
    title: 'Queues: depth and oldest message (s)'
    query: 'customMetrics | where name in ("raptorflow.queue.depth", "raptorflow.queue.oldest_age") | extend queue = tostring(customDimensions.queue) | summarize latest = arg_max(timestamp, value) by name, queue | project queue, metric = name, value | order by queue asc'
    visualization: 'table'
  }
  {
    title: 'Functions: invocations and failures'
    query: 'customMetrics | where name == "raptorflow.function.duration" | extend function = tostring(customDimensions.function), outcome = tostring(customDimensions.outcome) | summarize invocations = sum(valueCount), failed = sumif(valueCount, outcome == "failed"), avg_s = sum(valueSum) / sum(valueCount) by function | order by failed desc'
    visualization: 'table'
  }
  {
    title: 'Top orgs by API calls'
    query: 'requests | extend org = extract("/api/v1/orgs/(org_[A-Za-z0-9]+)", 1, url) | where isnotempty(org) | summarize calls = count(), errors = countif(success == false) by org | top 20 by calls desc'
    visualization: 'table'
  }
  {
    title: 'Top orgs by usage events'
    query: 'requests | where name has "usage-events" | extend org = extract("/api/v1/orgs/(org_[A-Za-z0-9]+)", 1, url) | summarize batches = count() by org | top 20 by batches desc'
    visualization: 'table'
  }
]

var workbookItems = [
  for (panel, i) in panels: {
    type: 3
    name: 'panel-${i}'
    content: {
      version: 'KqlItem/1.0'
      title: panel.title
      query: panel.query
      size: 0
      timeContext: { durationMs: 86400000 }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: panel.visualization
    }
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: workbookItems
  isLocked: false
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsights.id, 'raptorflow-operations')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'RaptorFlow operations'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
  }
}

output actionGroupId string = actionGroup.id
output workbookId string = workbook.id
