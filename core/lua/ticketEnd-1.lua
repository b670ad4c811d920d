-- The record of a ticket ended (it expires after the retention) or was removed: so does its index
-- entry, provided the entry still names that record (a ticket reused since names another).
-- KEYS[1] the ticket's index entry
-- ARGV[1] job id of the record  ARGV[2] seconds to live, 0 to remove it now
-- Returns 1 when the entry was this record's, else 0.
if redis.call('HGET', KEYS[1], 'job') ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1
