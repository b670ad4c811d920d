-- Makes a delivery the owner of a run another delivery owned (its executor is gone, or handed it back).
-- KEYS[1] op
-- ARGV[1] executor id  ARGV[2] delivery token  ARGV[3] the delivery it takes over from
-- Returns 'taken' (also when this delivery took it already), 'ended', or 'lost' (another took it first).
--@include terminal
local current = redis.call('HMGET', KEYS[1], 'state', 'delivery')
if not current[1] or terminal(current[1]) then return 'ended' end
if current[2] == ARGV[2] then return 'taken' end
if (current[2] or '') ~= ARGV[3] then return 'lost' end
redis.call('HSET', KEYS[1], 'executor', ARGV[1], 'delivery', ARGV[2])
return 'taken'
