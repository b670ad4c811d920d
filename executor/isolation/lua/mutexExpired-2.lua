-- The holds whose lease ran out: their executors stopped renewing. Whether their operations have
-- ended is for the caller to read (their records are in their pools' slots, not this mutex's).
-- KEYS[1] holder  KEYS[2] readers
-- Returns {holder, token, holder, token, …}.
--@include mutex-clock
local expired = {}
local h = redis.call('HMGET', KEYS[1], 'holder', 'token', 'until')
if h[1] and tonumber(h[3]) <= now then
  table.insert(expired, h[1])
  table.insert(expired, h[2])
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  local holder, token = string.match(member, '^(.*)|([^|]*)$')
  table.insert(expired, holder)
  table.insert(expired, token)
end
return expired
