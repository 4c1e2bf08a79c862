namespace Seckill.Inventory;

/// <summary>Patent step S1: spreads a campaign's stock evenly over its shards.</summary>
public static class StockAllocation
{
    /// <summary>
    /// floor(stock/m) units on every shard and the remainder one unit each on the lowest
    /// indices, so shares differ by at most one and always add up to the stock.
    /// </summary>
    public static int[] Split(int stock, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stock);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);

        var (share, remainder) = Math.DivRem(stock, shards);
        var shares = new int[shards];
        for (var i = 0; i < shards; i++)
        {
            shares[i] = i < remainder ? share + 1 : share;
        }

        return shares;
    }
}
