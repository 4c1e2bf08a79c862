-- Patent step S4 on a shard that is NOT the buyer's home, tried when the home shard is empty.
-- The caller already holds the buyer's marker on the home shard, which is what keeps the buyer
-- to one reservation; this script only takes a unit and writes the token (state "reserved").
-- KEYS: stock, token, unsent tokens, pending counter
-- ARGV: reservation id, user id, now (ms), idempotency key or "", home shard
-- Returns 1 when reserved, 0 when this shard is empty too.
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock <= 0 then
  return 0
end

redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[2], 's', 'reserved', 'u', ARGV[2], 'at', ARGV[3], 'k', ARGV[4], 'h', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
