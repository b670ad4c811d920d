-- Undoes a create whose job could not be added, unless an executor took it meanwhile.
-- KEYS[1] op  KEYS[2] payload
-- ARGV[1] job id
-- Returns 1 removed, 0 not (taken, or of another submission).
local current = redis.call('HMGET', KEYS[1], 'state', 'job')
if current[1] ~= 'queued' or current[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
