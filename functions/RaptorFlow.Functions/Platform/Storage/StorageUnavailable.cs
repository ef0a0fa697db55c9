using Azure;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// Whether a storage call failed because storage could not be reached or answered 5xx (the SDK
/// wraps the failures of its retries in an <see cref="AggregateException"/>), as opposed to a
/// refusal of the request itself.
/// </summary>
public static class StorageUnavailable
{
    public static bool Is(Exception ex) => ex switch
    {
        RequestFailedException failed => failed.Status is 0 or >= 500,
        AggregateException aggregate => aggregate.InnerExceptions.All(Is),
        HttpRequestException or TimeoutException => true,
        _ => false,
    };
}
