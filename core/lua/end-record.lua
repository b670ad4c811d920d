-- Ends an operation's record, whoever ends it (an executor with the run's result, a cancel of a
-- queued operation): the result, the line that says it at the end of the log, the payload (script,
-- secrets) deleted, record and log kept for the retention, and the ticket published on the
-- finished channel, which ends every log follow at once. Needs append-entries.
-- keys: op, payload, log. result: state, exit code, failure json or '', outputs json or ''.
-- publish: 'publish', or 'spublish' on a cluster (the channel is in the record's slot).
-- line: the final line's fields, args[from…].
local function endRecord(keys, result, now, retention, channel, publish, ticket, args, from)
  redis.call('HSET', keys[1], 'state', result[1], 'exitCode', result[2], 'finishedAt', now)
  if result[3] ~= '' then redis.call('HSET', keys[1], 'failure', result[3]) end
  if result[4] ~= '' then redis.call('HSET', keys[1], 'outputs', result[4]) end
  appendNext(keys[3], args, from)
  redis.call('DEL', keys[2])
  redis.call('EXPIRE', keys[1], retention)
  redis.call('EXPIRE', keys[3], retention)
  redis.call(publish, channel, ticket)
end
