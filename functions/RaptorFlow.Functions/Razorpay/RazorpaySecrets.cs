namespace RaptorFlow.Functions.Razorpay;

/// <summary>Key Vault secret names; locally the configuration keys beside them.</summary>
public static class RazorpaySecrets
{
    public const string KeyId = "razorpay-key-id";
    public const string KeySecret = "razorpay-key-secret";
    public const string WebhookSecret = "razorpay-webhook-secret";
}
