using System.Text.Json.Nodes;

namespace RaptorFlow.Tests.Infra;

/// <summary>The alerts and workbook of infra/modules/alerts.bicep, as `azd up` would deploy them.</summary>
public sealed partial class InfraTemplateTests
{
    private ArmResource AlertRules => Template.One("Microsoft.Insights/scheduledQueryRules");

    private JsonObject AlertRule(string name) =>
        AlertRules.Template["variables"]!["rules"]!.AsArray().Select(r => r!.AsObject()).SingleOrDefault(r => (string?)r["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"No alert rule named {name} in infra/modules/alerts.bicep");

    [Fact]
    public void Action_group_mails_the_address_azd_takes_from_ALERT_EMAIL()
    {
        var group = Template.One("Microsoft.Insights/actionGroups");
        Assert.Contains("parameters('alertEmail')", (string?)group.Properties["emailReceivers"], StringComparison.Ordinal);
        Assert.True((bool)group.Properties["enabled"]!);
        Assert.Equal("[parameters('alertEmail')]", (string?)Template.ModuleParameter("alerts", "alertEmail"));
        Assert.Equal("", (string?)Template.Root["parameters"]!["alertEmail"]!["defaultValue"]);
        Assert.Equal("${ALERT_EMAIL=}", (string?)infra.Parameters["parameters"]!["alertEmail"]!["value"]);
    }

    [Fact]
    public void Every_alert_rule_queries_application_insights_and_notifies_the_action_group()
    {
        var rules = AlertRules;
        Assert.Equal("[length(variables('rules'))]", (string?)rules.Resource["copy"]!["count"]);
        Assert.Contains("Microsoft.Insights/components", (string?)rules.Properties["scopes"]![0], StringComparison.Ordinal);
        Assert.Contains("Microsoft.Insights/actionGroups", (string?)rules.Properties["actions"]!["actionGroups"]![0], StringComparison.Ordinal);
        var criterion = rules.Properties["criteria"]!["allOf"]![0]!;
        Assert.Equal("Count", (string?)criterion["timeAggregation"]);
        Assert.Equal("GreaterThan", (string?)criterion["operator"]);
        Assert.Equal(0, (int)criterion["threshold"]!);
        Assert.True((bool)rules.Properties["enabled"]!);
        Assert.Equal("[variables('applicationInsightsName')]", (string?)Template.ModuleParameter("alerts", "applicationInsightsName"));
    }

    [Theory]
    [InlineData("poison-queue", "PT15M", "raptorflow.queue.depth", "-poison", "depth > 0")]
    [InlineData("webhook-inbox-age", "PT15M", "raptorflow.webhooks.inbox.oldest_unsettled_age", "age > 900", "max(value)")]
    [InlineData("invoice-run-failed", "PT15M", "\"GenerateInvoices\", \"CloseOrgPeriod\"", "raptorflow.invoices.close_failures", "failures > 0")]
    [InlineData("server-errors", "PT5M", "requests", "toint(resultCode) >= 500", "failed * 100.0 / total > 1")]
    [InlineData("ledger-inconsistent", "PT1H", "raptorflow.ledger.consistency.imbalances", "imbalances > 0", "sum(value)")]
    [InlineData("suspense-held", "P1D", "raptorflow.ledger.suspense.balance", "lowest > 0", "since < ago(23h)")]
    public void Alert_rule_watches_what_ops_must_hear_about(string name, string window, params string[] queryParts)
    {
        var rule = AlertRule(name);
        Assert.Equal(window, (string?)rule["window"]);
        var query = (string)rule["query"]!;
        Assert.All(queryParts, part => Assert.Contains(part, query, StringComparison.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace((string?)rule["description"]));
    }

    [Fact]
    public void Workbook_shows_routes_the_webhook_pipeline_billing_queues_and_top_orgs_from_application_insights()
    {
        var workbook = Template.One("Microsoft.Insights/workbooks");
        Assert.Equal("shared", (string?)workbook.Resource["kind"]);
        Assert.Contains("Microsoft.Insights/components", (string?)workbook.Properties["sourceId"], StringComparison.Ordinal);
        Assert.Equal("[string(variables('workbookContent'))]", (string?)workbook.Properties["serializedData"]);
        var titles = workbook.Template["variables"]!["panels"]!.AsArray().Select(p => (string)p!["title"]!).ToList();
        foreach (var expected in new[] { "Requests by route", "Webhook pipeline", "Billing", "Queues", "Top orgs by API calls", "Top orgs by usage" })
        {
            Assert.Contains(titles, t => t.StartsWith(expected, StringComparison.Ordinal));
        }
    }
}
