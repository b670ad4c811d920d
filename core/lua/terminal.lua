-- Whether an operation's state is final.
local function terminal(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end
