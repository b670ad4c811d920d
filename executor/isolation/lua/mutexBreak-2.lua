-- Ends holds whose operations have ended and whose lease ran out, each only if it is still that
-- hold (same holder and token) and its lease has still run out: a renewal since keeps it.
-- KEYS[1] holder  KEYS[2] readers
-- ARGV    holder, token, holder, token, …
-- Returns how many holds it ended.
--@include mutex-clock
local broken = 0
for i = 1, #ARGV, 2 do
  local h = redis.call('HMGET', KEYS[1], 'holder', 'token', 'until')
  if h[1] == ARGV[i] and h[2] == ARGV[i + 1] and tonumber(h[3]) <= now then
    redis.call('DEL', KEYS[1])
    broken = broken + 1
  end
  local member = ARGV[i] .. '|' .. ARGV[i + 1]
  local score = redis.call('ZSCORE', KEYS[2], member)
  if score and tonumber(score) <= now then
    redis.call('ZREM', KEYS[2], member)
    broken = broken + 1
  end
end
return broken
