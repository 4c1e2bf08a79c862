-- After the batch's transaction committed: claimed -> confirmed with each order id, in one round
-- trip per shard; the tokens stop counting as pending. Confirming twice (a redelivered batch)
-- changes nothing. A reserved or queued token is confirmed too (the dead-letter releaser found
-- its order already written); a failed one is left as it is.
-- KEYS: unsent tokens, pending counter, then one token key per order
-- ARGV: ttl of the ended tokens (ms), then per order: reservation id, order id
-- Returns how many tokens are confirmed now.
local confirmed = 0
for i = 3, #KEYS do
  local token = KEYS[i]
  local base = (i - 3) * 2 + 2
  local id, order = ARGV[base], ARGV[base + 1]
  local state = redis.call('HGET', token, 's')
  if state == 'claimed' or state == 'queued' or state == 'reserved' then
    redis.call('HSET', token, 's', 'confirmed', 'o', order)
    redis.call('PEXPIRE', token, ARGV[1])
    redis.call('ZREM', KEYS[1], id)
    redis.call('DECR', KEYS[2])
    confirmed = confirmed + 1
  elseif state == 'confirmed' then
    confirmed = confirmed + 1
  end
end
return confirmed
