-- Patent step S5, the worker's check of the token: pending -> claimed. Once claimed, the sweeper can
-- no longer expire it, so an order is never written for a unit that was already given back.
-- A token already claimed or confirmed answers the same again, which makes a redelivered message
-- safe to process.
-- A token that does not exist at all was lost with its Redis server (an ended token outlives any
-- queued message by days): the accepted message is then the evidence of the reservation, and the
-- token is re-created as claimed so the buyer's 202 still ends as an order or an explicit failure.
-- KEYS: token, open (pending) tokens, claimed tokens
-- ARGV: reservation id, now (ms), user id, accepted at (ms)
-- Returns {"claimed"} | {"confirmed", order id} | {state} for failed/expired
local state = redis.call('HGET', KEYS[1], 's')
if not state then
  redis.call('HSET', KEYS[1], 's', 'claimed', 'u', ARGV[3], 'at', ARGV[4], 'h', '-1', 'k', '', 'r', 'recovered')
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  return {'claimed'}
end

if state == 'pending' then
  redis.call('HSET', KEYS[1], 's', 'claimed')
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  return {'claimed'}
end

if state == 'confirmed' then
  return {'confirmed', redis.call('HGET', KEYS[1], 'o')}
end

return {state}
