-- Takes a mutex exclusively, once nobody holds it (a hold whose lease ran out is still held until
-- mutexBreak ends it). The same holder taking it again (the executor that adopts its operation)
-- gets a new token, which fences the one it replaces. A writer that must wait marks itself, so
-- that new readers hold back.
-- KEYS[1] holder  KEYS[2] readers  KEYS[3] waiting  KEYS[4] fence
-- ARGV[1] holder ("<pool>|<ticket>")  ARGV[2] lease (ms)
-- Returns the hold's fencing token, or 0 when it is held.
--@include mutex-clock
local holder = redis.call('HGET', KEYS[1], 'holder')
if (not holder or holder == ARGV[1]) and redis.call('ZCARD', KEYS[2]) == 0 then
  local token = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token, 'until', now + tonumber(ARGV[2]))
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
  return token
end
local waiting = redis.call('GET', KEYS[3])
if not waiting or waiting == ARGV[1] then redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2]) end
return 0
