-- Recomputes one shard's virtual stock from the truth, atomically with respect to every purchase
-- script on the shard: its share, minus the orders PostgreSQL confirmed from it (ARGV), minus the
-- tokens still open here (pending or claimed). Used after a Redis server lost writes or came back empty.
-- KEYS: stock, open (pending) tokens, claimed tokens
-- ARGV: the shard's initial share, confirmed orders from this shard, "1" to write the result
-- Returns {actual stock or "", expected stock, open tokens}
local open = redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
local expected = tonumber(ARGV[1]) - tonumber(ARGV[2]) - open
if expected < 0 then
  expected = 0
end

local actual = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], expected)
end
return {actual or '', expected, open}
