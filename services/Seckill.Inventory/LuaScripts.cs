namespace Seckill.Inventory;

/// <summary>
/// The Lua scripts under Scripts/, embedded in the assembly and read once per process. Keys are
/// always passed as KEYS, never built in Lua, so every script touches one hash tag (one slot).
/// </summary>
public static class LuaScripts
{
    public static readonly string Reserve = Load("reserve.lua");
    public static readonly string ReserveElsewhere = Load("reserve_elsewhere.lua");
    public static readonly string SettleMarker = Load("settle_marker.lua");
    public static readonly string ForgetBuyer = Load("forget_buyer.lua");
    public static readonly string Release = Load("release.lua");
    public static readonly string HandOff = Load("hand_off.lua");
    public static readonly string ClaimBatch = Load("claim_batch.lua");
    public static readonly string ConfirmBatch = Load("confirm_batch.lua");
    public static readonly string ReconcileShard = Load("reconcile_shard.lua");
    public static readonly string ReturnExpiredUnit = Load("return_expired_unit.lua");

    private static string Load(string name)
    {
        using var stream = typeof(LuaScripts).Assembly.GetManifestResourceStream($"Seckill.Inventory.Scripts.{name}")
            ?? throw new InvalidOperationException($"Embedded script {name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
