-- A run handed back passes to no executor: the next delivery takes it over without waiting for this one.
-- KEYS[1] op
-- ARGV[1] executor id
-- Returns 1 passed on, 0 not (not this executor's).
if redis.call('HGET', KEYS[1], 'executor') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'executor')
return 1
