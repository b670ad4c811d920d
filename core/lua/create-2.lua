-- Creates the record of a submitted operation, unless its ticket has one.
-- KEYS[1] op        KEYS[2] payload
-- ARGV[1] body hash  ARGV[2] pool  ARGV[3] task id ('' for none)  ARGV[4] queued at (ms)
-- ARGV[5] payload    ARGV[6] job id  ARGV[7] accepted at (ms: the submission reached the dispatcher)
-- Returns {'created'}, or {'exists', state, body hash, job id}. A record under the same job id is
-- this very create, sent again after a reconnect: 'created'.
if redis.call('EXISTS', KEYS[1]) == 1 then
  local current = redis.call('HMGET', KEYS[1], 'state', 'hash', 'job')
  if current[3] == ARGV[6] then return {'created'} end
  return {'exists', current[1], current[2], current[3] or ''}
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'hash', ARGV[1], 'pool', ARGV[2], 'queuedAt', ARGV[4], 'job', ARGV[6], 'acceptedAt', ARGV[7])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'taskId', ARGV[3]) end
redis.call('SET', KEYS[2], ARGV[5])
return {'created'}
