using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Tests.Platform;

/// <summary>What the app keeps off its start-up path (README, Performance: cold start).</summary>
public sealed class StartPathTests
{
    [Fact]
    public void Capability_enforcement_takes_its_services_in_the_constructor()
    {
        // Services as InvokeAsync parameters make UseMiddleware compile an expression at every start.
        var invoke = Assert.Single(typeof(CapabilityEnforcement).GetMethods(), m => m.Name == "InvokeAsync");
        Assert.Equal([typeof(HttpContext)], invoke.GetParameters().Select(p => p.ParameterType));
    }
}
