-- Patent step S5, the worker's check of the token: pending -> claimed. Once claimed, the sweeper can
-- no longer expire it, so an order is never written for a unit that was already given back.
-- A token this worker's fleet already claimed or confirmed answers the same again, which makes a
-- redelivered message safe to process.
-- KEYS: token
-- Returns {"claimed"} | {"confirmed", order id} | {state} for failed/expired | {"missing"}
local state = redis.call('HGET', KEYS[1], 's')
if not state then
  return {'missing'}
end

if state == 'pending' then
  redis.call('HSET', KEYS[1], 's', 'claimed')
  return {'claimed'}
end

if state == 'confirmed' then
  return {'confirmed', redis.call('HGET', KEYS[1], 'o')}
end

return {state}
