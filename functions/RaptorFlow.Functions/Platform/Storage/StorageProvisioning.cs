namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>A table, queue or blob container a feature needs; created when the app starts.</summary>
public sealed record StorageResource(StorageResourceKind Kind, string Name);

public enum StorageResourceKind
{
    Table,
    Queue,
    BlobContainer,
}
