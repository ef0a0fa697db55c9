using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;

namespace RaptorFlow.Tests.Infra;

/// <summary>
/// What `azd up` deploys, read from the ARM JSON the Bicep compiler makes of infra/: identity-only
/// access to storage, Key Vault and telemetry, the Flex Consumption custom handler, and no key or
/// secret anywhere in settings or outputs.
/// </summary>
public sealed partial class InfraTemplateTests(CompiledInfra infra) : IClassFixture<CompiledInfra>
{
    private static class Roles
    {
        public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
        public const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
        public const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
        public const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
        public const string KeyVaultCryptoServiceEncryptionUser = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
        public const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
        public const string CommunicationAndEmailServiceOwner = "09976791-48a7-449e-bb21-39d1a415f350";
    }

    private ArmTemplate Template => infra.Template;

    [Fact]
    public void Main_compiles_without_a_single_diagnostic() =>
        Assert.True(infra.Build.Diagnostics.Length == 0, $"bicep build said:\n{infra.Build.Diagnostics}");

    [Fact]
    public void Every_bicep_file_lints_clean()
    {
        Assert.Contains("main.bicep", infra.Lint.Keys);
        Assert.True(infra.Lint.Count >= 2, "the modules under infra/modules were not linted");
        foreach (var (file, run) in infra.Lint)
        {
            Assert.True(run.ExitCode == 0 && run.Diagnostics.Length == 0, $"bicep lint {file}:\n{run.Diagnostics}");
        }
    }

    [Fact]
    public void Main_is_deployed_at_subscription_scope_into_a_resource_group_named_from_the_azd_environment()
    {
        Assert.Contains("subscriptionDeploymentTemplate.json", (string)Template.Root["$schema"]!, StringComparison.Ordinal);
        var group = Template.One("Microsoft.Resources/resourceGroups");
        Assert.Contains("parameters('environmentName')", group.Name, StringComparison.Ordinal);
        Assert.Equal("[variables('tags')]", (string?)group.Resource["tags"]);
        Assert.Equal("[parameters('environmentName')]", (string?)Template.Root["variables"]!["tags"]!["azd-env-name"]);
    }

    [Fact]
    public void Parameters_file_maps_the_azd_environment()
    {
        var parameters = infra.Parameters["parameters"]!.AsObject();
        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", (string?)parameters["principalId"]!["value"]);

        var declared = Template.Root["parameters"]!.AsObject();
        Assert.All(parameters.Select(p => p.Key), name => Assert.True(declared.ContainsKey(name), $"main.parameters.json sets '{name}', which main.bicep does not declare"));
        var required = declared.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key);
        Assert.All(required, name => Assert.True(parameters.ContainsKey(name), $"main.bicep requires '{name}' but main.parameters.json does not map it"));
    }

    [Fact]
    public void Storage_account_refuses_shared_keys_and_anonymous_access()
    {
        var account = Template.One("Microsoft.Storage/storageAccounts").Properties;
        Assert.False((bool)account["allowSharedKeyAccess"]!);
        Assert.False((bool)account["allowBlobPublicAccess"]!);
        Assert.True((bool)account["defaultToOAuthAuthentication"]!);
        Assert.True((bool)account["supportsHttpsTrafficOnly"]!);
        Assert.Equal("TLS1_2", (string?)account["minimumTlsVersion"]);
    }

    [Fact]
    public void Location_is_limited_to_regions_that_offer_flex_consumption()
    {
        var allowed = Template.Root["parameters"]!["location"]!["allowedValues"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Contains("centralindia", allowed);
        Assert.Contains("eastus", allowed);
        Assert.Contains("westeurope", allowed);
        Assert.DoesNotContain("southindia", allowed);
        Assert.DoesNotContain(allowed, region => region.EndsWith("euap", StringComparison.Ordinal));
        Assert.Equal(allowed.Count, allowed.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("scm")]
    [InlineData("ftp")]
    public void Basic_auth_publishing_credentials_are_disabled(string kind)
    {
        var policy = Assert.Single(
            Template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"),
            p => (p.Name ?? "").Contains($"'{kind}'", StringComparison.Ordinal));
        Assert.False((bool)policy.Properties["allow"]!);
    }

    [Fact]
    public void Application_insights_refuses_local_auth_by_default()
    {
        Assert.True((bool)Template.Root["parameters"]!["appInsightsDisableLocalAuth"]!["defaultValue"]!);
        Assert.Equal("${APPINSIGHTS_DISABLE_LOCAL_AUTH=true}", (string?)infra.Parameters["parameters"]!["appInsightsDisableLocalAuth"]!["value"]);
        Assert.Equal("[parameters('disableLocalAuth')]", (string?)Template.One("Microsoft.Insights/components").Properties["DisableLocalAuth"]);
    }

    [Fact]
    public void Deployers_standing_data_roles_are_granted_only_when_deployer_data_access_is_on()
    {
        Assert.Equal("${DEPLOYER_DATA_ACCESS=true}", (string?)infra.Parameters["parameters"]!["deployerDataAccess"]!["value"]);
        foreach (var module in new[] { "storage", "keyvault" })
        {
            Assert.Equal("[parameters('deployerDataAccess')]", (string?)Template.ModuleParameter(module, "deployerDataAccess"));
        }

        var standing = DeployerRoleAssignments().Where(a => !((string?)a.Resource["scope"] ?? "").Contains("blobServices/containers", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, standing.Count); // storage (a loop over its roles) and Key Vault
        Assert.All(standing, a => Assert.Contains("parameters('deployerDataAccess')", (string?)a.Resource["condition"], StringComparison.Ordinal));
    }

    [Fact]
    public void Deployer_may_always_write_the_deployment_container_and_nothing_else_without_data_access()
    {
        var package = Assert.Single(DeployerRoleAssignments(), a => ((string?)a.Resource["scope"] ?? "").Contains("blobServices/containers", StringComparison.Ordinal));
        Assert.Contains("parameters('deploymentContainerName')", (string?)package.Resource["scope"], StringComparison.Ordinal);
        Assert.DoesNotContain("deployerDataAccess", (string?)package.Resource["condition"], StringComparison.Ordinal);
        Assert.Equal(["ba92f5b4-2d11-453d-a403-e96b0029c9fe"], ArmTemplate.RoleIds(package)); // Storage Blob Data Contributor
        Assert.Contains("AZURE_DEPLOYMENT_CONTAINER_NAME", Template.Root["outputs"]!.AsObject().Select(o => o.Key));
    }

    [Theory]
    [InlineData(StorageResourceKind.Table, "Microsoft.Storage/storageAccounts/tableServices/tables")]
    [InlineData(StorageResourceKind.Queue, "Microsoft.Storage/storageAccounts/queueServices/queues")]
    [InlineData(StorageResourceKind.BlobContainer, "Microsoft.Storage/storageAccounts/blobServices/containers")]
    public async Task Bicep_declares_exactly_the_tables_queues_and_containers_the_app_declares(StorageResourceKind kind, string type)
    {
        // The app's own list: what its provisioner creates locally (every AddStorageTable/Queue/Container).
        await using var app = Program.Build(["--environment=Testing", "--AzureWebJobsStorage=UseDevelopmentStorage=true"]);
        var inApp = app.Services.GetRequiredService<StorageProvisioner>().Resources
            .Where(r => r.Kind == kind).Select(r => r.Name).Order(StringComparer.Ordinal).ToList();

        // Literal names only: the deployment package's container is named by a parameter, not by the app.
        var inBicep = Template.OfType(type)
            .SelectMany(r => ArmTemplate.Literals(r.Resource["name"], r.Template))
            .Where(name => !name.StartsWith('['))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(inApp);
        Assert.Equal(inApp, inBicep);
    }

    [Fact]
    public void Export_archives_sit_in_a_private_container_and_the_app_may_sign_user_delegation_urls_on_the_account()
    {
        var container = Assert.Single(Template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"),
            c => ArmTemplate.Literals(c.Resource["name"], c.Template).Contains(ExportBook.Container));
        Assert.Equal("None", (string?)container.Properties["publicAccess"]);

        // Requesting a user-delegation key is an account-level action (generateUserDelegationKey), held by
        // Storage Blob Data Owner/Contributor/Delegator only when granted on the account, not on a container.
        var grant = Assert.Single(AppIdentityRoleAssignments(), a => ArmTemplate.RoleIds(a).Contains(Roles.StorageBlobDataOwner));
        var scope = (string?)grant.Resource["scope"] ?? "";
        Assert.Contains("Microsoft.Storage/storageAccounts", scope, StringComparison.Ordinal);
        Assert.DoesNotContain("blobServices", scope, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_account_holds_the_razorpay_queue_and_its_poison_queue()
    {
        var queues = Template.OfType("Microsoft.Storage/storageAccounts/queueServices/queues")
            .SelectMany(q => ArmTemplate.Literals(q.Resource["name"], q.Template))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("razorpay-events", queues);
        Assert.Contains("razorpay-events-poison", queues);
    }

    [Fact]
    public void Key_vault_uses_rbac_with_purge_protection_and_holds_no_secret_values()
    {
        var vault = Template.One("Microsoft.KeyVault/vaults").Properties;
        Assert.True((bool)vault["enableRbacAuthorization"]!);
        Assert.True((bool)vault["enablePurgeProtection"]!);
        Assert.True((bool)vault["enableSoftDelete"]!);
        Assert.Null(vault["accessPolicies"]);
        Assert.Empty(Template.OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Theory]
    [InlineData(Roles.StorageBlobDataOwner, "Microsoft.Storage/storageAccounts")]
    [InlineData(Roles.StorageQueueDataContributor, "Microsoft.Storage/storageAccounts")]
    [InlineData(Roles.StorageTableDataContributor, "Microsoft.Storage/storageAccounts")]
    [InlineData(Roles.KeyVaultSecretsUser, "Microsoft.KeyVault/vaults")]
    [InlineData(Roles.MonitoringMetricsPublisher, "Microsoft.Insights/components")]
    [InlineData(Roles.KeyVaultCryptoServiceEncryptionUser, "Microsoft.KeyVault/vaults/keys")]
    [InlineData(Roles.CommunicationAndEmailServiceOwner, "Microsoft.Communication/communicationServices")]
    public void App_identity_is_granted_its_role_on_the_resource(string roleId, string scopeType)
    {
        var grants = AppIdentityRoleAssignments().Where(a => ArmTemplate.RoleIds(a).Contains(roleId)).ToList();
        var grant = Assert.Single(grants);
        Assert.Contains(scopeType, (string?)grant.Resource["scope"], StringComparison.Ordinal);
        Assert.Equal("ServicePrincipal", (string?)grant.Properties["principalType"]);
    }

    [Fact]
    public void App_identity_is_granted_exactly_the_roles_it_needs()
    {
        var granted = AppIdentityRoleAssignments().SelectMany(ArmTemplate.RoleIds).ToHashSet(StringComparer.OrdinalIgnoreCase);
        string[] needed =
        [
            Roles.StorageBlobDataOwner, Roles.StorageQueueDataContributor, Roles.StorageTableDataContributor,
            Roles.KeyVaultSecretsUser, Roles.MonitoringMetricsPublisher, Roles.KeyVaultCryptoServiceEncryptionUser,
            Roles.CommunicationAndEmailServiceOwner,
        ];
        Assert.Equal(needed.Order(StringComparer.Ordinal), granted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Role_assigning_modules_read_the_same_identity_the_function_app_runs_as()
    {
        Assert.Equal("[variables('identityName')]", (string?)Template.ModuleParameter("identity", "name"));
        foreach (var module in new[] { "storage", "keyvault", "monitoring", "email" })
        {
            Assert.Equal("[variables('identityName')]", (string?)Template.ModuleParameter(module, "appIdentityName"));
        }

        Assert.Equal("[reference('identity').outputs.id.value]", (string?)Template.ModuleParameter("function-app", "identityId"));
        Assert.Equal("[reference('identity').outputs.clientId.value]", (string?)Template.ModuleParameter("function-app", "identityClientId"));
    }

    [Fact]
    public void Function_app_is_a_custom_handler_on_flex_consumption()
    {
        var plan = Template.One("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan.Resource["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan.Resource["sku"]!["tier"]);
        Assert.True((bool)plan.Properties["reserved"]!);

        var site = Template.One("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", (string?)site.Resource["kind"]);
        Assert.True((bool)site.Properties["httpsOnly"]!);
        var config = site.Properties["functionAppConfig"]!;
        Assert.Equal("custom", (string?)config["runtime"]!["name"]);
        Assert.Equal("1.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("[parameters('instanceMemoryMB')]", (string?)config["scaleAndConcurrency"]!["instanceMemoryMB"]);
        Assert.Equal("[parameters('maximumInstanceCount')]", (string?)config["scaleAndConcurrency"]!["maximumInstanceCount"]);
    }

    [Fact]
    public void Scale_out_defaults_to_forty_instances_of_2048_MB_as_measured()
    {
        // README, Performance, "Scale-out settings": why these two numbers.
        var parameters = Template.Root["parameters"]!;
        Assert.Equal(40, (int)parameters["maximumInstanceCount"]!["defaultValue"]!);
        Assert.Equal(2048, (int)parameters["instanceMemoryMB"]!["defaultValue"]!);
    }

    [Fact]
    public void Deployment_package_is_read_from_blob_storage_with_the_managed_identity()
    {
        var site = Template.One("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", (string?)site.Resource["identity"]!["type"]);
        var storage = site.Properties["functionAppConfig"]!["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", (string?)storage["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]!["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)storage["authentication"]!["userAssignedIdentityResourceId"]);
        Assert.Null(storage["authentication"]!["storageAccountConnectionStringName"]);
        Assert.Equal("[reference('storage').outputs.deploymentContainerUrl.value]", (string?)Template.ModuleParameter("function-app", "deploymentContainerUrl"));
    }

    [Fact]
    public void Function_app_carries_the_azd_service_tag_of_azure_yaml()
    {
        var site = Template.One("Microsoft.Web/sites");
        Assert.Contains("'azd-service-name', parameters('serviceName')", (string?)site.Resource["tags"], StringComparison.Ordinal);
        Assert.Equal("[variables('serviceName')]", (string?)Template.ModuleParameter("function-app", "serviceName"));
        var serviceName = (string)Template.Root["variables"]!["serviceName"]!;
        Assert.Contains(serviceName, AzureYaml.Load().ServiceNames);
    }

    [Fact]
    public void Web_console_is_a_static_web_app_tagged_for_azd_whose_origin_the_api_allows()
    {
        var site = Template.One("Microsoft.Web/staticSites");
        Assert.Contains("'azd-service-name', parameters('serviceName')", (string?)site.Resource["tags"], StringComparison.Ordinal);
        Assert.Equal("[variables('webServiceName')]", (string?)Template.ModuleParameter("static-web-app", "serviceName"));
        Assert.Contains((string)Template.Root["variables"]!["webServiceName"]!, AzureYaml.Load().ServiceNames);

        var cors = (string?)Template.ModuleParameter("function-app", "corsAllowedOrigins");
        Assert.Contains("parameters('corsAllowedOrigins')", cors, StringComparison.Ordinal);
        Assert.Contains("reference('web').outputs.defaultHostName.value", cors, StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_give_the_web_console_its_runtime_config()
    {
        var top = Template.Root["outputs"]!.AsObject();
        foreach (var name in new[] { "WEB_URL", "WEB_API_URL", "WEB_ENTRA_CLIENT_ID", "WEB_ENTRA_AUTHORITY", "WEB_API_SCOPE" })
        {
            Assert.True(top.ContainsKey(name), $"output {name} is missing");
        }
    }

    [Fact]
    public void Sign_in_audience_flows_from_the_azd_environment_to_the_app_and_the_consoles_authority()
    {
        var declared = Template.Root["parameters"]!["signInAudience"]!;
        Assert.Equal("SingleTenant", (string?)declared["defaultValue"]);
        Assert.Equal(["ExternalId", "MultiTenant", "SingleTenant"], declared["allowedValues"]!.AsArray().Select(v => (string)v!).Order(StringComparer.Ordinal));
        var parameters = infra.Parameters["parameters"]!;
        Assert.Equal("${AUTH_SIGN_IN_AUDIENCE=SingleTenant}", (string?)parameters["signInAudience"]!["value"]);
        Assert.Equal("${AUTH_ALLOWED_TENANT_IDS=[]}", (string?)parameters["allowedTenantIds"]!["value"]);

        var settings = AppSettings();
        Assert.Equal("[parameters('signInAudience')]", settings["Auth__SignInAudience"]);
        Assert.Equal("[parameters('azureAdInstance')]", settings["AzureAd__Instance"]);
        Assert.Contains("Auth__AllowedTenants__0", settings.Keys);
        Assert.Equal("[parameters('signInAudience')]", (string?)Template.ModuleParameter("function-app", "signInAudience"));
        Assert.Equal("[variables('azureAdInstance')]", (string?)Template.ModuleParameter("function-app", "azureAdInstance"));
        Assert.Equal("[variables('apiTenantId')]", (string?)Template.ModuleParameter("function-app", "azureAdTenantId"));
        var variables = Template.Root["variables"]!;
        Assert.Contains("organizations", (string?)variables["apiTenantId"], StringComparison.Ordinal);
        Assert.Contains(".ciamlogin.com/", (string?)variables["azureAdInstance"], StringComparison.Ordinal);
        Assert.Equal("[format('{0}{1}', variables('azureAdInstance'), variables('apiTenantId'))]", (string?)Template.Root["outputs"]!["WEB_ENTRA_AUTHORITY"]!["value"]);
    }

    [Fact]
    public void Storage_settings_are_identity_based()
    {
        var settings = AppSettings();
        Assert.Equal("[parameters('storageAccountName')]", settings["AzureWebJobsStorage__accountName"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("[parameters('identityClientId')]", settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("[parameters('identityClientId')]", settings["AZURE_CLIENT_ID"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
    }

    [Fact]
    public void Key_ring_is_wrapped_by_an_rsa_key_that_only_wraps_and_rotates_and_the_app_is_told_its_versionless_uri()
    {
        var key = Template.One("Microsoft.KeyVault/vaults/keys").Properties;
        Assert.Equal("RSA", (string?)key["kty"]);
        Assert.True((int)key["keySize"]! >= 3072);
        Assert.Equal(["unwrapKey", "wrapKey"], key["keyOps"]!.AsArray().Select(o => (string)o!).Order(StringComparer.Ordinal));
        Assert.Equal("rotate", (string?)key["rotationPolicy"]!["lifetimeActions"]![0]!["action"]!["type"]);
        Assert.Equal("[parameters('keyRingKeyUri')]", AppSettings()["KeyVault__KeyRingKeyUri"]);
        Assert.Equal("[reference('keyVault').outputs.keyRingKeyUri.value]", (string?)Template.ModuleParameter("function-app", "keyRingKeyUri"));
    }

    [Fact]
    public void Settings_point_the_app_at_key_vault_entra_id_and_telemetry_with_the_dev_issuer_off()
    {
        var settings = AppSettings();
        Assert.Equal("[parameters('keyVaultUri')]", settings["KeyVault__Uri"]);
        Assert.Equal("[reference('keyVault').outputs.uri.value]", (string?)Template.ModuleParameter("function-app", "keyVaultUri"));
        Assert.Equal("false", settings["Auth__DevIssuer__Enabled"]);
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", settings.Keys);
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        foreach (var key in new[] { "AzureAd__Instance", "AzureAd__TenantId", "AzureAd__ClientId", "AzureAd__Audience", "Razorpay__BaseUrl" })
        {
            Assert.Contains(key, settings.Keys);
        }
    }

    [Fact]
    public void Settings_hold_no_connection_string_key_or_secret()
    {
        var settings = AppSettings();
        Assert.DoesNotContain(settings.Keys, k =>
            k != "APPLICATIONINSIGHTS_CONNECTION_STRING" &&
            (k.Contains("CONNECTION", StringComparison.OrdinalIgnoreCase) || k.Contains("SECRET", StringComparison.OrdinalIgnoreCase) ||
             k.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase) || k.EndsWith("KEY", StringComparison.OrdinalIgnoreCase)));

        // Razorpay credentials live in Key Vault only.
        Assert.DoesNotContain("Razorpay__KeyId", settings.Keys);
        Assert.DoesNotContain("Razorpay__KeySecret", settings.Keys);
        Assert.DoesNotContain("Razorpay__WebhookSecret", settings.Keys);
        Assert.All(settings.Values, value => Assert.DoesNotMatch(KeyMaterial(), value));
    }

    [Fact]
    public void Settings_avoid_what_flex_consumption_rejects()
    {
        // Flex Consumption takes runtime and deployment from functionAppConfig and refuses these.
        string[] rejected =
        [
            "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
            "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE", "WEBSITE_NODE_DEFAULT_VERSION",
            "FUNCTIONS_WORKER_PROCESS_COUNT", "AzureWebJobsDashboard",
        ];
        Assert.Empty(AppSettings().Keys.Intersect(rejected, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void Every_setting_the_app_needs_in_azure_is_set()
    {
        // Local-only settings, and the secrets the app reads from Key Vault in Azure.
        string[] notInAzure =
        [
            "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "Hosting__Url",
            "Razorpay__KeyId", "Razorpay__KeySecret", "Razorpay__WebhookSecret",
            // Azure sends mail through ACS with the identity: SMTP credentials are for other deployments.
            "Mail__Smtp__UserName", "Mail__Smtp__Password",
        ];
        var set = AppSettings().Keys.Select(k => IndexSuffix().Replace(k, "__0")).ToHashSet(StringComparer.Ordinal);
        var needed = LocalSettingsSample.Load().Values.Keys
            .Except(notInAzure, StringComparer.Ordinal)
            .Except(SettingsSections.KeysWithCodeDefaults(), StringComparer.Ordinal)
            // The development issuer is off in Azure (and start-up refuses it there); only the switch is set.
            .Where(key => key == "Auth__DevIssuer__Enabled" || !key.StartsWith("Auth__DevIssuer__", StringComparison.Ordinal));
        Assert.All(needed, key => Assert.True(set.Contains(key), $"the app reads '{key}' but the Function App does not set it"));
    }

    [Fact]
    public void No_key_listing_function_or_key_material_appears_anywhere_in_the_template()
    {
        var strings = Template.AllStrings().ToList();
        Assert.DoesNotContain(strings, s => s.Contains("listKeys(", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(strings, s => s.Contains("listAccountSas(", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(strings, s => s.Contains("listServiceSas(", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(strings, s => s.Contains("listSecrets(", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(strings, s => KeyMaterial().IsMatch(s));
    }

    [Fact]
    public void Outputs_give_azd_what_it_needs_and_nothing_secret()
    {
        var modules = Template.OfType("Microsoft.Resources/deployments").Select(m => m.Properties["template"]!.AsObject());
        var outputs = modules.Prepend(Template.Root).SelectMany(t => t["outputs"]?.AsObject() ?? []).ToList();
        Assert.All(outputs, output =>
        {
            var type = (string?)output.Value!["type"];
            Assert.False(string.Equals(type, "securestring", StringComparison.OrdinalIgnoreCase) || string.Equals(type, "secureObject", StringComparison.OrdinalIgnoreCase), output.Key);
            Assert.DoesNotContain("connection", output.Key, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("secret", output.Key, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("ConnectionString", output.Value!["value"]?.ToJsonString() ?? "", StringComparison.OrdinalIgnoreCase);
        });

        var top = Template.Root["outputs"]!.AsObject();
        foreach (var name in new[] { "API_BASE_URL", "RAZORPAY_WEBHOOK_URL", "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_KEY_VAULT_URI", "AZURE_KEY_VAULT_NAME", "AZURE_FUNCTION_APP_NAME" })
        {
            Assert.True(top.ContainsKey(name), $"output {name} is missing");
        }

        Assert.EndsWith("/api/v1/webhooks/razorpay', reference('functionApp').outputs.defaultHostName.value)]", (string?)top["RAZORPAY_WEBHOOK_URL"]!["value"], StringComparison.Ordinal);
    }

    private IEnumerable<ArmResource> DeployerRoleAssignments() =>
        Template.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => (string?)a.Properties["principalId"] == "[parameters('deployerPrincipalId')]");

    private IEnumerable<ArmResource> AppIdentityRoleAssignments() =>
        Template.OfType("Microsoft.Authorization/roleAssignments").Where(a =>
        {
            var principal = (string?)a.Properties["principalId"] ?? "";
            return principal.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.Ordinal) ||
                   principal.StartsWith("[reference('appIdentity')", StringComparison.Ordinal);
        });

    /// <summary>
    /// The Function App's settings by name: the literal objects the <c>appsettings</c> resource
    /// unions, the <c>createObject</c> pairs, and the indexed names built from arrays (as <c>…__0</c>).
    /// </summary>
    private Dictionary<string, string> AppSettings()
    {
        var config = Template.OfType("Microsoft.Web/sites/config").Single(c => c.Name!.Contains("'appsettings'", StringComparison.Ordinal));
        var expression = (string)config.Resource["properties"]!;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var variables = config.Template["variables"]!.AsObject();
        foreach (Match reference in VariableReference().Matches(expression))
        {
            switch (variables[reference.Groups[1].Value])
            {
                case JsonObject literal:
                    foreach (var (key, value) in literal)
                    {
                        settings.Add(key, (string)value!);
                    }

                    break;
                case JsonValue built when built.TryGetValue<string>(out var text):
                    foreach (Match name in IndexedName().Matches(text))
                    {
                        settings.Add(name.Groups[1].Value + "0", text);
                    }

                    break;
            }
        }

        foreach (Match pair in CreatedPair().Matches(expression))
        {
            settings.Add(pair.Groups[1].Value, pair.Groups[2].Value);
        }

        Assert.True(settings.Count > 5, $"could not read the app settings from {expression}");
        return settings;
    }

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"format\('([A-Za-z_]+__)\{0\}'")]
    private static partial Regex IndexedName();

    [GeneratedRegex(@"createObject\('([^']+)', ([^,)]+(?:\)[^,)]*)?)")]
    private static partial Regex CreatedPair();

    [GeneratedRegex(@"__\d+$")]
    private static partial Regex IndexSuffix();

    [GeneratedRegex("AccountKey=|SharedAccessSignature=|sig=|DefaultEndpointsProtocol=|ClientSecret=", RegexOptions.IgnoreCase)]
    private static partial Regex KeyMaterial();
}
