// The benchmark's baseline (infra/bench.sh, phase a): the intake's purchase route answered with no work
// behind it. Same host builder and Kestrel defaults as the intake, same JSON serializer, same answer:
// 202, Location /api/reservations/{id} and {"reservationId":"<guid D>","status":"pending"}, so both
// servers write byte-for-byte the same amount per request and only the purchase logic differs.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapPost("/api/campaigns/{id}/purchases", static (string id) =>
{
    _ = id;
    var reservationId = Guid.NewGuid();
    return TypedResults.Accepted($"/api/reservations/{reservationId}", new PurchaseAccepted(reservationId, "pending"));
});

await app.RunAsync();

/// <summary>The intake's 202 body (<c>Seckill.Intake.Purchases.PurchaseAccepted</c>), copied rather than referenced so the baseline carries none of the intake's dependencies.</summary>
internal sealed record PurchaseAccepted(Guid ReservationId, string Status);
