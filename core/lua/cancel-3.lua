-- Cancels an operation: a queued one ends at once; a started one is flagged for its executor to stop.
-- KEYS[1] op  KEYS[2] payload  KEYS[3] log
-- ARGV[1] now (ms)  ARGV[2] retention (s)  ARGV[3] exit code  ARGV[4] failure json
-- ARGV[5] finished channel  ARGV[6] ticket  ARGV[7] 'publish', or 'spublish' on a cluster
-- ARGV[8…] the fields of the log's final line
-- Returns {'missing'}, {'finished', state} (it had ended), {'cancelled', 'cancelled', job id} (it
-- was queued and ends now) or {'signalled', state}.
--@include terminal
--@include append-entries
--@include end-record
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if terminal(state) then return {'finished', state} end
redis.call('HSET', KEYS[1], 'cancel', '1')
if state == 'queued' then
  endRecord(KEYS, {'cancelled', ARGV[3], ARGV[4], ''}, ARGV[1], ARGV[2], ARGV[5], ARGV[7], ARGV[6], ARGV, 8)
  return {'cancelled', 'cancelled', redis.call('HGET', KEYS[1], 'job') or ''}
end
return {'signalled', state}
