-- Patent step S4 on the buyer's HOME shard, in one round trip: dedupe, decrement if positive,
-- write the token. Atomic, so two requests of one buyer can never both pass the dedupe.
-- The token starts "reserved": not yet handed to the broker, so it is in the unsent index the
-- sweeper reads until hand_off.lua (or a worker's claim) takes it out.
-- KEYS: stock, buyer marker, token, unsent tokens, pending counter
-- ARGV: reservation id, user id, now (ms), idempotency key or "", hold ttl (ms), home shard
-- Returns {"held", marker} | {"empty"} | {"reserved"}
local marker = redis.call('GET', KEYS[2])
if marker then
  return {'held', marker}
end

local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock <= 0 then
  -- Hold the buyer's marker while other shards are tried, so a concurrent request of the same
  -- buyer cannot reserve there too. The ttl frees the buyer if this intake dies mid-search.
  redis.call('SET', KEYS[2], '~' .. ARGV[1] .. '|' .. ARGV[4], 'PX', ARGV[5])
  return {'empty'}
end

redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[3], 's', 'reserved', 'u', ARGV[2], 'at', ARGV[3], 'k', ARGV[4], 'h', ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('INCR', KEYS[5])
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[4])
return {'reserved'}
