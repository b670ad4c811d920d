-- Appends log lines, each at most once however often the command is sent.
-- KEYS[1] the log stream
-- ARGV    entries, each as <seq> <number of fields> <field> <value> …
-- Returns the last sequence stored.
--@include append-entries
return appendEntries(KEYS[1], ARGV, 1)
