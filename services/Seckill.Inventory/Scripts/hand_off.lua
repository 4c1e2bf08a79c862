-- The broker confirmed the SeckillAccepted messages of these reservations: reserved -> queued, and
-- they leave the unsent index. From here on only a worker (or the dead-letter releaser) moves
-- them; the sweeper never touches a queued token, however long its queue is.
-- A token a worker already claimed (its message overtook this call), or one an undo already
-- failed, answers its state unchanged: whoever moved it first wins.
-- KEYS: unsent tokens, then one token key per reservation (all of one shard)
-- ARGV: one reservation id per token
-- Returns one state per reservation as it is now: "queued" | "claimed" | "confirmed" | "failed" | "missing"
local results = {}
for i = 2, #KEYS do
  local state = redis.call('HGET', KEYS[i], 's')
  if not state then
    results[#results + 1] = 'missing'
  elseif state == 'reserved' then
    redis.call('HSET', KEYS[i], 's', 'queued')
    redis.call('ZREM', KEYS[1], ARGV[i - 1])
    results[#results + 1] = 'queued'
  else
    results[#results + 1] = state
  end
end
return results
