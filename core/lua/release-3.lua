-- Deletes a finished operation's record, payload and log: the server has read everything.
-- KEYS[1] op  KEYS[2] payload  KEYS[3] log
-- Returns 'released', 'missing' or 'not-finished'.
--@include terminal
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if not terminal(state) then return 'not-finished' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 'released'
