-- Renews a hold's lease, for the hold of that token only.
-- KEYS[1] holder  KEYS[2] readers
-- ARGV[1] holder ("<pool>|<ticket>")  ARGV[2] token  ARGV[3] lease (ms)  ARGV[4] 'exclusive' or 'shared'
-- Returns 1 renewed, -1 held again by the same holder under a newer token, 0 gone.
--@include mutex-clock
local untilMs = now + tonumber(ARGV[3])
if ARGV[4] == 'exclusive' then
  local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
  if h[1] == ARGV[1] and h[2] == ARGV[2] then
    redis.call('HSET', KEYS[1], 'until', untilMs)
    return 1
  end
  if h[1] == ARGV[1] then return -1 end
  return 0
end
local member = ARGV[1] .. '|' .. ARGV[2]
if redis.call('ZSCORE', KEYS[2], member) then
  redis.call('ZADD', KEYS[2], untilMs, member)
  return 1
end
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if string.match(other, '^(.*)|') == ARGV[1] then return -1 end
end
return 0
