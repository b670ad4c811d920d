-- Names the pool of a ticket about to be submitted, unless another pool holds it.
-- KEYS[1] the ticket's index entry
-- ARGV[1] pool  ARGV[2] job id of the submission  ARGV[3] now (ms)  ARGV[4] how long a claim whose
-- record never comes lives (ms)  ARGV[5] the job id of an entry to replace ('' for none: see below)
-- Returns {pool, job id, claimed at (ms)} of the entry after the call: this submission's when the
-- ticket was free (or its entry was the one to replace), else the holder's.
local current = redis.call('HMGET', KEYS[1], 'pool', 'job', 'at')
if current[1] and (ARGV[5] == '' or current[2] ~= ARGV[5]) then return current end
redis.call('HSET', KEYS[1], 'pool', ARGV[1], 'job', ARGV[2], 'at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {ARGV[1], ARGV[2], ARGV[3]}
