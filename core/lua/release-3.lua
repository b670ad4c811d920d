-- Deletes a finished operation's record, payload and log: the server has read everything.
-- KEYS[1] op  KEYS[2] payload  KEYS[3] log
-- Returns {'released', job id of the record's submission}, {'missing'} or {'not-finished'}.
--@include terminal
local current = redis.call('HMGET', KEYS[1], 'state', 'job')
if not current[1] then return {'missing'} end
if not terminal(current[1]) then return {'not-finished'} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return {'released', current[2] or ''}
