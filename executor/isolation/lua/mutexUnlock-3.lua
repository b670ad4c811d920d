-- Ends a hold (never a newer hold of the same holder), and a wait of this holder's.
-- KEYS[1] holder  KEYS[2] readers  KEYS[3] waiting
-- ARGV[1] holder ("<pool>|<ticket>")  ARGV[2] token (0 for a waiter that never held it)
-- Returns 1.
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] == ARGV[1] and h[2] == ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
