-- An operation whose script never started here goes back to queued, for the next delivery to claim afresh.
-- KEYS[1] op
-- ARGV[1] executor id
-- Returns 1 requeued, 0 not (started, or not this executor's).
local current = redis.call('HMGET', KEYS[1], 'state', 'executor')
if current[1] ~= 'pending' or current[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'executor', 'claimedAt', 'delivery')
return 1
