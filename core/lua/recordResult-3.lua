-- Records a run's result, once, for the delivery that owns the run.
-- KEYS[1] op  KEYS[2] payload  KEYS[3] log
-- ARGV[1] state  ARGV[2] exit code  ARGV[3] failure json ('' for none)  ARGV[4] outputs json ('' for none)
-- ARGV[5] now (ms)  ARGV[6] retention (s)  ARGV[7] finished channel  ARGV[8] ticket
-- ARGV[9] delivery token ('' when no delivery owns it any more: BullMQ gave up on the job)
-- ARGV[10] 'publish', or 'spublish' on a cluster  ARGV[11…] the fields of the log's final line
-- Returns {reply, job id}: 'recorded', 'again' (this delivery recorded it already: the command sent
-- again), 'ended' (another result stands) or 'fenced' (another delivery owns the run); the job id of
-- the record's submission ('' when there is no record).
--@include terminal
--@include append-entries
--@include end-record
local current = redis.call('HMGET', KEYS[1], 'state', 'delivery', 'job')
local state = current[1]
local job = current[3] or ''
if not state then return {'ended', ''} end
if terminal(state) then
  if ARGV[9] ~= '' and current[2] == ARGV[9] then return {'again', job} end
  return {'ended', job}
end
if ARGV[9] ~= '' and current[2] ~= ARGV[9] then return {'fenced', job} end
endRecord(KEYS, {ARGV[1], ARGV[2], ARGV[3], ARGV[4]}, ARGV[5], ARGV[6], ARGV[7], ARGV[10], ARGV[8], ARGV, 11)
return {'recorded', job}
