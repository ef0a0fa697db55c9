namespace RaptorFlow.Functions.Platform.Access;

/// <summary>An org's record as the feature that owns orgs stores it; access checks hand it on to endpoints.</summary>
public interface IOrgRecord
{
    string OrgId { get; }
}
