-- Records a moment of a run's timeline the first time it is seen: seen again (by an executor that
-- adopts the run, or a watch that replays), it keeps its first time. Nothing is written once the
-- operation has ended, nor to a record that is gone (it would come back without its expiry).
-- KEYS[1] op
-- ARGV[1] the moment's field  ARGV[2] its time (ms)  ARGV[3…] more fields of the moment, as field value …
-- Returns 1 written, 0 not.
--@include terminal
local state = redis.call('HGET', KEYS[1], 'state')
if not state or terminal(state) then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
