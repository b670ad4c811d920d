-- Claims a delivered operation for an executor. A queued operation becomes the delivery's: the
-- delivery token fences every later write of the run (markRunning, recordResult). The same delivery
-- asking again (its first reply lost) gets the same answer; another delivery of a started
-- operation changes nothing (see takeOver).
-- KEYS[1] op  KEYS[2] payload
-- ARGV[1] executor id  ARGV[2] now (ms)  ARGV[3] the pool whose queue delivered it  ARGV[4] delivery token
-- Returns {'missing'} | {'foreign', pool} | {'terminal', state, executor}
--       | {'claimed', payload, cancel, queued at, 'new' | 'again'}
--       | {'reclaimed', payload, cancel, state, owning executor, owning delivery}
--@include terminal
local current = redis.call('HMGET', KEYS[1], 'state', 'cancel', 'executor', 'queuedAt', 'pool', 'delivery')
local state = current[1]
if not state then return {'missing'} end
if current[5] ~= ARGV[3] then return {'foreign', current[5] or ''} end
if terminal(state) then return {'terminal', state, current[3] or ''} end
local payload = redis.call('GET', KEYS[2]) or ''
local cancel = current[2] or ''
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'executor', ARGV[1], 'claimedAt', ARGV[2], 'delivery', ARGV[4])
  return {'claimed', payload, cancel, current[4], 'new'}
end
if state == 'pending' and current[6] == ARGV[4] then return {'claimed', payload, cancel, current[4], 'again'} end
return {'reclaimed', payload, cancel, state, current[3] or '', current[6] or ''}
