-- The script started: a pending operation becomes running, for the delivery that owns it only.
-- KEYS[1] op
-- ARGV[1] now (ms)  ARGV[2] delivery token
-- Returns 1 marked, 0 not (not pending, or not this delivery's).
local current = redis.call('HMGET', KEYS[1], 'state', 'delivery')
if current[1] ~= 'pending' or current[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[1])
return 1
