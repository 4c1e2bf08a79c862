-- Ends a token that will never become an order: -> failed, with its unit back (unless the unit
-- never existed) and its buyer freed. Whoever moves a token first wins, so a repeated release
-- (redelivered compensation, an undo racing a worker's claim) neither returns a second unit nor
-- overwrites a state it did not expect.
-- The buyer's marker is on the buyer's home shard. When that is this shard it is cleared here,
-- atomically; otherwise the marker to forget is recorded in this shard's unmark set in the same
-- step, so a failure of the separate forget call is retried by the sweeper instead of locking the
-- buyer out forever.
-- KEYS: token, stock, unsent tokens, pending counter, failed counter, unmark set,
--       the buyer's marker key on THIS shard (used only when it is the buyer's home)
-- ARGV: reservation id, states it may leave (e.g. "reserved,queued,claimed"), reason,
--       "1" to return the unit to stock ("0" when the unit never existed), ttl of the ended token (ms),
--       this shard's index
-- Returns {"released", home shard, user} or {state that prevented it} ({"missing"} when there is no token).
local state = redis.call('HGET', KEYS[1], 's')
if not state then
  return {'missing'}
end

if not string.find(',' .. ARGV[2] .. ',', ',' .. state .. ',', 1, true) then
  return {state}
end

local home = redis.call('HGET', KEYS[1], 'h') or '-1'
local user = redis.call('HGET', KEYS[1], 'u') or ''
redis.call('HSET', KEYS[1], 's', 'failed', 'r', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DECR', KEYS[4])
redis.call('INCR', KEYS[5])
if ARGV[4] == '1' then
  redis.call('INCR', KEYS[2])
end

if home == ARGV[6] then
  local marker = redis.call('GET', KEYS[7])
  if marker and string.sub(marker, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
    redis.call('DEL', KEYS[7])
  end
elseif tonumber(home) >= 0 then
  -- home:reservation:user; the user id goes last because it may itself contain a colon.
  redis.call('SADD', KEYS[6], home .. ':' .. ARGV[1] .. ':' .. user)
end
return {'released', home, user}
