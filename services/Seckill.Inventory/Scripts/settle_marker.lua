-- Compare-and-set of a buyer's marker: only the request that wrote the expected value may
-- replace it (ARGV[2]) or delete it (ARGV[2] == ""), so a slow request cannot clobber the
-- marker of a newer reservation.
-- KEYS: buyer marker
-- ARGV: expected value, replacement or ""
-- Returns 1 when settled, 0 when the marker no longer holds the expected value.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end

if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
