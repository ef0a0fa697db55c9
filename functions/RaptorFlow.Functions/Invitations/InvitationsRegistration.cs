using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invitations;

public static class InvitationsRegistration
{
    public static WebApplicationBuilder AddInvitations(this WebApplicationBuilder builder)
    {
        builder.Services.AddStorageTable(InvitationTokenRow.TableName);
        builder.Services.AddSingleton<InvitationBook>();
        return builder;
    }
}
