-- Recomputes one shard's virtual stock from the truth, atomically with respect to every purchase
-- script on the shard: its share, minus the orders PostgreSQL confirmed from it (ARGV), minus the
-- tokens still pending here (reserved, queued or claimed). Used after a Redis server lost writes or came back empty.
-- KEYS: stock, pending counter
-- ARGV: the shard's initial share, confirmed orders from this shard, "1" to write the result
-- Returns {actual stock or "", expected stock, pending tokens}
local open = tonumber(redis.call('GET', KEYS[2]) or '0')
local expected = tonumber(ARGV[1]) - tonumber(ARGV[2]) - open
if expected < 0 then
  expected = 0
end

local actual = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], expected)
end
return {actual or '', expected, open}
