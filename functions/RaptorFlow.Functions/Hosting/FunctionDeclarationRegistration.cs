namespace RaptorFlow.Functions.Hosting;

public static class FunctionDeclarationRegistration
{
    /// <summary>Declares a queue function; its queue (and poison queue) are created on start.</summary>
    public static IServiceCollection AddQueueFunction<THandler>(this IServiceCollection services, string name, string queueName)
        where THandler : class, IQueueFunction
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new FunctionDeclaration(name, FunctionTriggerKind.Queue, typeof(THandler), QueueName: queueName));
        return Platform.Storage.StorageRegistration.AddStorageQueue(services, queueName);
    }

    /// <summary>Declares a timer function on a six-field NCRONTAB schedule (seconds first), as the Functions timer trigger uses.</summary>
    public static IServiceCollection AddTimerFunction<THandler>(this IServiceCollection services, string name, string schedule, bool runOnStartup = false)
        where THandler : class, ITimerFunction
    {
        services.AddScoped<THandler>();
        return services.AddSingleton(new FunctionDeclaration(name, FunctionTriggerKind.Timer, typeof(THandler), Schedule: schedule, RunOnStartup: runOnStartup));
    }
}
