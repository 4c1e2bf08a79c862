namespace Seckill.Intake.Payments;

/// <summary>The transaction request of the patent's step S5; the payment provider itself is out of scope.</summary>
public sealed record PaymentRequest(string? PaymentReference)
{
    public const int MaxReferenceLength = 128;

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (PaymentReference is null || PaymentReference.Length is 0 or > MaxReferenceLength
            || PaymentReference.Any(c => c is < '!' or > '~'))
        {
            errors["paymentReference"] = [$"paymentReference is required: 1–{MaxReferenceLength} printable ASCII characters without spaces."];
        }

        return errors;
    }
}
