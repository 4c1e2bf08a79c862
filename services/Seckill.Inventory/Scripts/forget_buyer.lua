-- Clears a buyer's marker on their home shard after their reservation there or elsewhere ended
-- without an order, so they may try again. Only the marker of that reservation is cleared: a
-- buyer who has since reserved again keeps the new one.
-- KEYS: buyer marker
-- ARGV: reservation id
-- Returns 1 when cleared, 0 when the marker belongs to another reservation or is gone.
local marker = redis.call('GET', KEYS[1])
if marker and string.sub(marker, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
