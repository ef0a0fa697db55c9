using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Members;

public sealed record MemberResponse(string UserId, Role Role, string? Email, string? Name, DateTimeOffset JoinedAt, DateTimeOffset UpdatedAt);

public sealed record ChangeRoleRequest(Role? Role);

public sealed record TransferOwnershipRequest(string? UserId);
