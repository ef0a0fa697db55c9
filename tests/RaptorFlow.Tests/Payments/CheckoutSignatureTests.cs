using System.Security.Cryptography;
using System.Text;
using RaptorFlow.Functions.Payments;

namespace RaptorFlow.Tests.Payments;

public sealed class CheckoutSignatureTests
{
    // Razorpay's own vector: razorpay/razorpay-python, tests/test_client_utility.py
    // (test_verify_payment_signature), with the client's key secret from tests/helpers.py.
    private const string SdkKeySecret = "key_secret";
    private const string SdkSignature = "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89";

    [Fact]
    public void The_razorpay_sdk_vector_verifies_as_order_id_bar_payment_id()
    {
        Assert.True(CheckoutSignature.Matches(SdkKeySecret, "fake_order_id|fake_payment_id", SdkSignature));
    }

    [Theory]
    [InlineData("test_signature")] // the SDK's own rejected signature (test_verify_payment_signature_with_exception)
    [InlineData("B2335E3B0801106B84A7FAFF035DF56ECFFDE06918C9DDD1F0FAFBB37A51CC89")] // upper-case hex is not what Razorpay sends
    [InlineData("b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc8")] // one digit short
    [InlineData("")]
    public void Anything_but_the_exact_lower_case_signature_is_refused(string signature)
    {
        Assert.False(CheckoutSignature.Matches(SdkKeySecret, "fake_order_id|fake_payment_id", signature));
    }

    [Fact]
    public void The_order_of_the_ids_matters_so_a_subscription_signature_is_payment_id_bar_subscription_id()
    {
        Assert.False(CheckoutSignature.Matches(SdkKeySecret, "fake_payment_id|fake_order_id", SdkSignature));

        // The subscription form as the SDKs compute it (razorpay-python razorpay/utility/utility.py:
        // payment_id + "|" + subscription_id), checked against an independent HMAC.
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SdkKeySecret), Encoding.UTF8.GetBytes("fake_payment_id|fake_subscription_id")));
        Assert.True(CheckoutSignature.Matches(SdkKeySecret, "fake_payment_id|fake_subscription_id", expected));
        Assert.False(CheckoutSignature.Matches(SdkKeySecret, "fake_subscription_id|fake_payment_id", expected));
    }

    [Fact]
    public void Refund_ids_derived_from_one_request_are_stable_and_distinct_per_caller()
    {
        var first = RefundKeys.For("org_1", "pay_1", "user:a", "key-1");
        Assert.Equal(first, RefundKeys.For("org_1", "pay_1", "user:a", "key-1"));
        Assert.NotEqual(first, RefundKeys.For("org_1", "pay_1", "user:b", "key-1"));
        Assert.NotEqual(first, RefundKeys.For("org_2", "pay_1", "user:a", "key-1"));
        Assert.True(RefundKeys.IsOurs(first));
        Assert.True(RefundKeys.IsOurs(RefundKeys.New()));
        Assert.False(RefundKeys.IsOurs("rfnd_FP8QHiV938haTz"));
    }
}
