-- The server's clock in ms: every lease is measured on it, never on an executor's.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
