-- Ends a token that will never become an order: pending|claimed -> failed, or pending -> expired.
-- Whoever moves a token first wins, so a repeated release (redelivered compensation, sweeper
-- racing an undo) neither returns a second unit nor overwrites a worker's claim it did not expect.
-- KEYS: token, stock, open (pending) tokens, claimed tokens, failed counter[, buyer marker when the token's shard is the buyer's home]
-- ARGV: reservation id, states it may leave (e.g. "pending,claimed"), new state, reason,
--       "1" to return the unit to stock ("0" when the unit never existed), ttl of the ended token (ms)
-- Returns "released", or the state that prevented it ("missing" when there is no token).
local state = redis.call('HGET', KEYS[1], 's')
if not state then
  return 'missing'
end

if not string.find(',' .. ARGV[2] .. ',', ',' .. state .. ',', 1, true) then
  return state
end

redis.call('HSET', KEYS[1], 's', ARGV[3], 'r', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('INCR', KEYS[5])
if ARGV[5] == '1' then
  redis.call('INCR', KEYS[2])
end

if KEYS[6] then
  local marker = redis.call('GET', KEYS[6])
  if marker and string.sub(marker, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
    redis.call('DEL', KEYS[6])
  end
end
return 'released'
