-- The record of a ticket was created in its pool: the index entry names it, for as long as it lives.
-- KEYS[1] the ticket's index entry
-- ARGV[1] pool  ARGV[2] job id of the record  ARGV[3] now (ms)
-- Returns 1.
redis.call('HSET', KEYS[1], 'pool', ARGV[1], 'job', ARGV[2], 'at', ARGV[3])
redis.call('PERSIST', KEYS[1])
return 1
