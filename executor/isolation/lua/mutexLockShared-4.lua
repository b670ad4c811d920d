-- Takes a mutex shared, unless it is held exclusively or a writer waits for it. The same holder
-- taking it again (the executor that adopts its operation, or a take sent again after its reply was
-- lost) replaces its earlier hold, whose token is fenced as the exclusive one is.
-- KEYS[1] holder  KEYS[2] readers  KEYS[3] waiting  KEYS[4] fence
-- ARGV[1] holder ("<pool>|<ticket>")  ARGV[2] lease (ms)
-- Returns the hold's fencing token, or 0 when it cannot be shared now.
--@include mutex-clock
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local waiting = redis.call('GET', KEYS[3])
if waiting and waiting ~= ARGV[1] then return 0 end
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if string.match(other, '^(.*)|') == ARGV[1] then redis.call('ZREM', KEYS[2], other) end
end
local token = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1] .. '|' .. token)
return token
