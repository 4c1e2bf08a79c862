-- After the batch's transaction committed: claimed -> confirmed with each order id, in one round
-- trip per shard, and the tokens leave the sets of open tokens. Confirming twice (a redelivered
-- batch) changes nothing; a token in any other state is left as it is.
-- KEYS: open (pending) tokens, claimed tokens, then one token key per order
-- ARGV: ttl of the ended tokens (ms), then per order: reservation id, order id
-- Returns how many tokens are confirmed now.
local confirmed = 0
for i = 3, #KEYS do
  local token = KEYS[i]
  local base = (i - 3) * 2 + 2
  local id, order = ARGV[base], ARGV[base + 1]
  local state = redis.call('HGET', token, 's')
  if state == 'claimed' or state == 'pending' then
    redis.call('HSET', token, 's', 'confirmed', 'o', order)
    redis.call('PEXPIRE', token, ARGV[1])
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    confirmed = confirmed + 1
  elseif state == 'confirmed' then
    confirmed = confirmed + 1
  end
end
return confirmed
