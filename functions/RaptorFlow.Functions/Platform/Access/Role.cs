namespace RaptorFlow.Functions.Platform.Access;

/// <summary>A member's role; declared from most to least powerful. Each role holds every capability of the roles below it.</summary>
public enum Role
{
    Owner,
    Admin,
    Member,
    Viewer,
}
