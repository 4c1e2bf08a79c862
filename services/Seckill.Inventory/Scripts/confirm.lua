-- After the order's transaction committed: claimed -> confirmed, with the order id, and the token
-- leaves the set of open tokens. Confirming twice (a redelivered batch) changes nothing.
-- KEYS: token, open (pending) tokens, claimed tokens
-- ARGV: reservation id, order id, ttl of the ended token (ms)
-- Returns "confirmed", or the state that prevented it.
local state = redis.call('HGET', KEYS[1], 's')
if state == 'confirmed' then
  return 'confirmed'
end

if state ~= 'claimed' and state ~= 'pending' then
  return state or 'missing'
end

redis.call('HSET', KEYS[1], 's', 'confirmed', 'o', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 'confirmed'
