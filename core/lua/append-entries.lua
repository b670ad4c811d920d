-- Log entries. A stream entry's id is "<sequence>-0"; its fields are encoded by core/log-store.ts,
-- so this file knows only sequences.

-- The last sequence stored in the stream at `key`, 0 for none.
local function lastSequence(key)
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then return tonumber(string.match(top[1], '^(%d+)')) end
  return 0
end

-- Appends the entries of `args` from index `from` on, each as <seq> <number of fields> <fields…>,
-- skipping those whose sequence is not above the last stored: they are stored already (the same
-- command, sent again after a reconnect whose first reply was lost). Returns the last sequence.
local function appendEntries(key, args, from)
  local last = lastSequence(key)
  local i = from
  while i <= #args do
    local seq = tonumber(args[i])
    local fields = tonumber(args[i + 1])
    if seq > last then
      redis.call('XADD', key, seq .. '-0', unpack(args, i + 2, i + 1 + fields))
      last = seq
    end
    i = i + 2 + fields
  end
  return last
end

-- Appends one entry with the fields `args[from…]` after the last stored.
local function appendNext(key, args, from)
  redis.call('XADD', key, (lastSequence(key) + 1) .. '-0', unpack(args, from))
end
