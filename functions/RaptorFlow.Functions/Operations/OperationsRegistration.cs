using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Operations;

/// <summary>What ops watch that no request or event reports by itself: the sampled gauges.</summary>
public static class OperationsRegistration
{
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        builder.Services.AddTimerFunction<SampleOperations>(SampleOperations.FunctionName, SampleOperations.Schedule);
        return builder;
    }
}
