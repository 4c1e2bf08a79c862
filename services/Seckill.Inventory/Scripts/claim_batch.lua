-- Patent step S5, the worker's check of the tokens of one batch on one shard: pending -> claimed,
-- in one round trip for all of them. Once claimed, the sweeper can no longer expire a token, so an
-- order is never written for a unit that was already given back.
-- A token already claimed or confirmed answers the same again, which makes a redelivered message
-- safe to process.
-- A token that does not exist at all was lost with its Redis server (an ended token outlives any
-- queued message by days): the accepted message is then the evidence of the reservation, and the
-- token is re-created as claimed so the buyer's 202 still ends as an order or an explicit failure.
-- KEYS: open (pending) tokens, claimed tokens, then one token key per reservation
-- ARGV: now (ms), then per reservation: reservation id, user id, accepted at (ms)
-- Returns one entry per reservation: "claimed" | "confirmed:<order id>" | "failed" | "expired"
local results = {}
for i = 3, #KEYS do
  local token = KEYS[i]
  local base = (i - 3) * 3 + 2
  local id, user, at = ARGV[base], ARGV[base + 1], ARGV[base + 2]
  local state = redis.call('HGET', token, 's')
  if not state then
    redis.call('HSET', token, 's', 'claimed', 'u', user, 'at', at, 'h', '-1', 'k', '', 'r', 'recovered')
    redis.call('ZADD', KEYS[2], ARGV[1], id)
    results[#results + 1] = 'claimed'
  elseif state == 'pending' then
    redis.call('HSET', token, 's', 'claimed')
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], ARGV[1], id)
    results[#results + 1] = 'claimed'
  elseif state == 'confirmed' then
    results[#results + 1] = 'confirmed:' .. (redis.call('HGET', token, 'o') or '')
  else
    results[#results + 1] = state
  end
end
return results
