-- Patent step S5, the worker's check of the tokens of one batch on one shard: reserved|queued ->
-- claimed, in one round trip for all of them. A reserved token is claimable too: the broker had
-- the message (a worker holds it), only the intake's hand-off call has not landed yet. Once
-- claimed, no undo can fail the token, so an order is never written for a unit given back.
-- A token already claimed or confirmed answers the same again: a redelivered message is safe.
-- A missing token was either lost with its Redis server or aged out after it ended. Ended tokens
-- live EndedTokenLifetime past their end, which is after their acceptance, so a token accepted
-- less than that long ago cannot have aged out: it was lost, and the accepted message is the
-- evidence of the reservation (re-created as claimed, home -1: its marker went with it). An older
-- one answers "gone": its fate was decided long ago, and re-creating it could return a unit twice.
-- KEYS: unsent tokens, pending counter, then one token key per reservation
-- ARGV: now (ms), ended token lifetime (ms), then per reservation: reservation id, user id, accepted at (ms)
-- Returns one entry per reservation: "claimed" | "confirmed:<order id>" | "failed" | "gone"
local now, lifetime = tonumber(ARGV[1]), tonumber(ARGV[2])
local results = {}
for i = 3, #KEYS do
  local token = KEYS[i]
  local base = (i - 3) * 3 + 3
  local id, user, at = ARGV[base], ARGV[base + 1], ARGV[base + 2]
  local state = redis.call('HGET', token, 's')
  if not state then
    if now - tonumber(at) >= lifetime then
      results[#results + 1] = 'gone'
    else
      redis.call('HSET', token, 's', 'claimed', 'u', user, 'at', at, 'h', '-1', 'k', '', 'r', 'recovered')
      redis.call('INCR', KEYS[2])
      results[#results + 1] = 'claimed'
    end
  elseif state == 'reserved' or state == 'queued' then
    redis.call('HSET', token, 's', 'claimed')
    redis.call('ZREM', KEYS[1], id)
    results[#results + 1] = 'claimed'
  elseif state == 'confirmed' then
    results[#results + 1] = 'confirmed:' .. (redis.call('HGET', token, 'o') or '')
  else
    results[#results + 1] = state
  end
end
return results
