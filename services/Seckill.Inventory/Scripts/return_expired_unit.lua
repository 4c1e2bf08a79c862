-- An order that was never paid by its deadline gives its unit back to this shard: confirmed -> expired,
-- stock + 1. PostgreSQL already moved the order to payment-expired and took the unit out of the real
-- inventory; this is the virtual half, run from the compensation path, so it may run more than once:
-- only the first call finds the token confirmed and returns a unit. A token that is gone (aged out, or
-- its server restarted empty) is written back as expired with the unit, since PostgreSQL is the record
-- that the unit is owed. The buyer's marker stays: a buyer who let the deadline pass does not buy again.
-- KEYS: token, stock
-- ARGV: reservation id, user id, shard, ttl of the ended token (ms)
-- Returns "returned" | "already" | the state that prevented it.
local state = redis.call('HGET', KEYS[1], 's')
if state == 'expired' then
  return 'already'
end

if state and state ~= 'confirmed' then
  return state
end

if not state then
  redis.call('HSET', KEYS[1], 'u', ARGV[2], 'h', '-1')
end

redis.call('HSET', KEYS[1], 's', 'expired', 'r', 'payment-expired')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('INCR', KEYS[2])
return 'returned'
