namespace RaptorFlow.Functions.Members;

public static class MembersRegistration
{
    public static WebApplicationBuilder AddMembers(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MemberRoster>();
        return builder;
    }
}
