-- Undoes a create whose job could not be added, unless an executor took it meanwhile, or the job
-- is there after all (its add ran though its reply was lost, or a retry of the same body added it).
-- KEYS[1] op  KEYS[2] payload  KEYS[3] the BullMQ job's hash
-- ARGV[1] job id
-- Returns 1 removed, 0 not (taken, of another submission, or its job exists).
local current = redis.call('HMGET', KEYS[1], 'state', 'job')
if current[1] ~= 'queued' or current[2] ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
