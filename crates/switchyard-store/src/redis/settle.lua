-- Gives back one admitted request's hold.
--
-- ARGV: request id, then one entry per step:
--   'l'                   release its lease; KEYS: the lease set
--   'k' delta             move a token TAT by delta µs (negative: a refund, never into
--                         the past); KEYS: the TAT
--   's' cost              turn its reservation in a budget window into its cost; KEYS:
--                         the window's hash, its reservation expiries
--
-- Returns {before, after} per 's' step: the window's spend around this request's cost,
-- or {-1, -1} where the window has no spend counted (Redis lost it; the next admission
-- seeds it from the ledger).

local request = ARGV[1]
local now = now_us()
local spends = {}
local k, a = 1, 2

while a <= #ARGV do
  local kind = ARGV[a]
  if kind == 'l' then
    redis.call('ZREM', KEYS[k], request)
    a, k = a + 1, k + 1
  elseif kind == 'k' then
    local delta = tonumber(ARGV[a + 1])
    local tat = redis.call('GET', KEYS[k])
    if tat then
      local new = tonumber(tat) + delta
      if delta < 0 then
        new = math.max(new, now)
      end
      redis.call('SET', KEYS[k], int(new), 'PX', int((new - now) / 1000 + 60000))
    end
    a, k = a + 2, k + 1
  elseif kind == 's' then
    local cost = tonumber(ARGV[a + 1])
    local reserved = redis.call('HGET', KEYS[k], 'r:' .. request)
    if reserved then
      redis.call('HINCRBY', KEYS[k], 'reserved', int(-tonumber(reserved)))
      redis.call('HDEL', KEYS[k], 'r:' .. request)
      redis.call('ZREM', KEYS[k + 1], request)
    end
    local spent = redis.call('HGET', KEYS[k], 'spent')
    if spent then
      local after = redis.call('HINCRBY', KEYS[k], 'spent', int(cost))
      spends[#spends + 1] = tonumber(spent)
      spends[#spends + 1] = after
    else
      spends[#spends + 1] = -1
      spends[#spends + 1] = -1
    end
    a, k = a + 2, k + 2
  else
    return redis.error_reply('unknown step ' .. tostring(kind))
  end
end
return spends
