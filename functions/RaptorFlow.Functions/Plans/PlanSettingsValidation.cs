using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.Plans;

/// <summary>Checks what DataAnnotations cannot: ids, meter names, nested values and the default plan.</summary>
internal sealed class PlanSettingsValidation(IConfiguration configuration, IGeneratedSettings generated) : IValidateOptions<PlanSettings>
{
    public ValidateOptionsResult Validate(string? name, PlanSettings options)
    {
        var errors = new List<string>();
        var catalog = PlanSettings.CatalogFrom(configuration);
        foreach (var (id, plan) in catalog)
        {
            if (!PlanCatalog.IsValidPlanId(id))
            {
                errors.Add($"Plans:Catalog:{id}: a plan id is 1-40 characters of a-z, 0-9, '_' and '-'.");
            }

            errors.AddRange(generated.Validate(null, plan).Failures?.Select(f => $"Plans:Catalog:{id}:{f}") ?? []);
            foreach (var (meter, price) in plan.Meters)
            {
                if (!UsageEventRules.IsValidMeter(meter))
                {
                    errors.Add($"Plans:Catalog:{id}:Meters:{meter}: not a valid meter name.");
                }

                errors.AddRange(generated.Validate(null, price).Failures?.Select(f => $"Plans:Catalog:{id}:Meters:{meter}:{f}") ?? []);
            }
        }

        if (!catalog.TryGetValue(options.DefaultPlanId, out var defaultPlan))
        {
            errors.Add($"Plans:DefaultPlanId: '{options.DefaultPlanId}' is not in the catalog.");
        }
        else if (defaultPlan.MonthlyFeeMinor != 0)
        {
            errors.Add("Plans:DefaultPlanId: the plan new orgs start on must cost nothing.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
