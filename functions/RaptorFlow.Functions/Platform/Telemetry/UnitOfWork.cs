using System.Diagnostics;

namespace RaptorFlow.Functions.Platform.Telemetry;

/// <summary>
/// One unit of fanned-out work (an org's month closed, an org's usage rolled up, a ledger checked):
/// one activity, a child of the invocation's, tagged with whose work it is, and a log scope carrying
/// the same id, so the work of a timer that fanned out can be read per org in traces and in logs.
/// </summary>
public sealed class UnitOfWork : IDisposable
{
    public const string OrgIdTag = "raptorflow.org_id";
    public const string LedgerIdTag = "raptorflow.ledger_id";

    private readonly IDisposable? _scope;

    private UnitOfWork(Activity? activity, IDisposable? scope)
    {
        Activity = activity;
        _scope = scope;
    }

    public Activity? Activity { get; }

    /// <summary>An org's unit of work: tagged <see cref="OrgIdTag"/>, logged under <c>OrgId</c>.</summary>
    public static UnitOfWork ForOrg(ILogger logger, string operation, string orgId) => Start(logger, operation, OrgIdTag, "OrgId", orgId);

    /// <summary>A ledger's unit of work (an org's ledger, or the platform's): tagged <see cref="LedgerIdTag"/>, logged under <c>LedgerId</c>.</summary>
    public static UnitOfWork ForLedger(ILogger logger, string operation, string ledgerId) => Start(logger, operation, LedgerIdTag, "LedgerId", ledgerId);

    private static UnitOfWork Start(ILogger logger, string operation, string tag, string scopeName, string id)
    {
        var activity = Telemetry.Source.StartActivity(operation, ActivityKind.Internal);
        activity?.SetTag(tag, id);
        return new UnitOfWork(activity, logger.BeginScope(new LogScope((scopeName, id))));
    }

    public void Dispose()
    {
        _scope?.Dispose();
        Activity?.Dispose();
    }
}
