-- The spend of some budget windows. KEYS: each window's hash and reservation expiries.
-- Returns {spent, reserved} per window, {-1, 0} where it has not been seeded.

local now = now_us()
local result = {}
for k = 1, #KEYS, 2 do
  local spent = redis.call('HGET', KEYS[k], 'spent')
  if spent then
    result[#result + 1] = tonumber(spent)
    result[#result + 1] = purge(KEYS[k], KEYS[k + 1], now)
  else
    result[#result + 1] = -1
    result[#result + 1] = 0
  end
end
return result
