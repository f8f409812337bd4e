-- Shared by every script of the Redis limiter. Times are microseconds from Redis's own
-- clock, so every replica agrees on them. Numbers go back to Redis through `int`:
-- Lua would print a 16-digit number as `1.7e+15`.

local function int(n)
  return string.format('%d', n)
end

local function now_us()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000000 + tonumber(time[2])
end

-- Drops a budget's reservations whose request never settled (its replica died), and
-- returns what is still reserved.
local function purge(budget, expiries, now)
  local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', int(now))
  for _, id in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', budget, 'r:' .. id) or '0')
    redis.call('HINCRBY', budget, 'reserved', int(-amount))
    redis.call('HDEL', budget, 'r:' .. id)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', expiries, '-inf', int(now))
  end
  return tonumber(redis.call('HGET', budget, 'reserved') or '0')
end
