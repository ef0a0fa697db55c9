namespace RaptorFlow.Functions.Ledger;

/// <summary>How an account's balance grows: debit-normal accounts grow with debits.</summary>
public enum AccountType
{
    Asset,
    Liability,
    Revenue,
    ContraRevenue,
    Expense,
}

public sealed record LedgerAccount(string Code, AccountType Type, string Description)
{
    public bool IsDebitNormal => Type is AccountType.Asset or AccountType.Expense or AccountType.ContraRevenue;
}

/// <summary>
/// Every org has its own ledger (one table partition) with the same accounts. The platform keeps
/// one more ledger, <see cref="PlatformLedger"/>, for money that belongs to no known org
/// (<c>suspense</c>) and for Razorpay settlements, which are paid out to the platform as a whole.
/// </summary>
public static class ChartOfAccounts
{
    public const string PlatformLedger = "platform";

    public const string Receivable = "receivable";
    public const string RazorpayClearing = "razorpay_clearing";
    public const string Bank = "bank";
    public const string Revenue = "revenue";
    public const string Refunds = "refunds";
    public const string GstPayable = "gst_payable";
    public const string ProcessingFees = "processing_fees";
    public const string CustomerCredit = "customer_credit";
    public const string CreditHeld = "credit_held";
    public const string Suspense = "suspense";

    public static IReadOnlyList<LedgerAccount> OrgAccounts { get; } =
    [
        new(Receivable, AccountType.Asset, "Invoiced amounts the org has not paid yet."),
        new(RazorpayClearing, AccountType.Asset, "Captured by Razorpay, not yet settled to the bank."),
        new(Bank, AccountType.Asset, "Money settled to the bank account."),
        new(Revenue, AccountType.Revenue, "Invoiced plan fees and usage."),
        new(Refunds, AccountType.ContraRevenue, "Money refunded to the org."),
        new(GstPayable, AccountType.Liability, "GST collected on invoices, owed to the government."),
        new(ProcessingFees, AccountType.Expense, "Razorpay's fee (including its GST) on payments."),
        new(CustomerCredit, AccountType.Liability, "Payments received that no open invoice absorbed."),
        new(CreditHeld, AccountType.Liability, "Prepaid credit set aside for refunds Razorpay is carrying out."),
    ];

    public static IReadOnlyList<LedgerAccount> PlatformAccounts { get; } =
    [
        new(RazorpayClearing, AccountType.Asset, "Captured by Razorpay for payments naming no known org."),
        new(Bank, AccountType.Asset, "Razorpay settlements paid out to the platform's bank account."),
        new(Refunds, AccountType.ContraRevenue, "Refunds of payments naming no known org."),
        new(ProcessingFees, AccountType.Expense, "Razorpay's fee on payments naming no known org."),
        new(Suspense, AccountType.Liability, "Money received for no known org, held until ops assign it."),
    ];

    public static IReadOnlyList<LedgerAccount> AccountsOf(string ledgerId) =>
        ledgerId == PlatformLedger ? PlatformAccounts : OrgAccounts;

    public static LedgerAccount? Find(string ledgerId, string code)
    {
        foreach (var account in AccountsOf(ledgerId))
        {
            if (account.Code == code)
            {
                return account;
            }
        }

        return null;
    }
}
