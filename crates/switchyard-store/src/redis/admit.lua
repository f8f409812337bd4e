-- One admission across every level, all or nothing.
--
-- ARGV: request id, lease ttl (µs), the request's maximum cost (µ$), then one entry per
-- check, in order:
--   'p' limit                    concurrent requests; KEYS: the lease set
--   'r' interval period          a GCRA rate (interval = this request's units × T);
--                                KEYS: the theoretical arrival time
--   't'                          a request too large for a rate: always refused
--   'b' limit expire_at_ms       a budget window; KEYS: its hash, its reservation expiries
--
-- Returns {1, now, tat…} when admitted (the new TAT of each rate check, in order);
-- {0, check, a, b, now, tat…} when check number `check` refuses (a rate: a = µs until it would
-- pass; a budget: a = spent, b = reserved); {2, check…} when budgets have no spend yet
-- and must be seeded from the ledger first. Nothing is written unless admitted (but
-- expired leases and reservations, which are gone either way).

local request, ttl, cost = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_us()
local expiry = now + ttl
local tats, leases, rates, budgets, unseeded = {}, {}, {}, {}, {}
local k, a, check = 1, 4, 0

local function refuse(x, y)
  return {0, check, x, y, now, unpack(tats)}
end

while a <= #ARGV do
  check = check + 1
  local kind = ARGV[a]
  if kind == 'p' then
    local limit = tonumber(ARGV[a + 1])
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', int(now))
    if redis.call('ZCARD', KEYS[k]) >= limit then
      return refuse(0, 0)
    end
    leases[#leases + 1] = KEYS[k]
    a, k = a + 2, k + 1
  elseif kind == 'r' then
    local interval, period = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local tat = tonumber(redis.call('GET', KEYS[k]) or '0')
    local new = math.max(tat, now) + interval
    if new - now > period then
      return refuse(new - now - period, 0)
    end
    tats[#tats + 1] = new
    rates[#rates + 1] = {KEYS[k], new}
    a, k = a + 3, k + 1
  elseif kind == 't' then
    return refuse(0, 0)
  elseif kind == 'b' then
    local limit, expire_at = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local spent = redis.call('HGET', KEYS[k], 'spent')
    if not spent then
      unseeded[#unseeded + 1] = check
    else
      spent = tonumber(spent)
      local reserved = purge(KEYS[k], KEYS[k + 1], now)
      if spent >= limit or spent + reserved + cost > limit then
        return refuse(spent, reserved)
      end
      budgets[#budgets + 1] = {KEYS[k], KEYS[k + 1], expire_at}
    end
    a, k = a + 3, k + 2
  else
    return redis.error_reply('unknown check ' .. tostring(kind))
  end
end

if #unseeded > 0 then
  return {2, unpack(unseeded)}
end

for _, set in ipairs(leases) do
  redis.call('ZADD', set, int(expiry), request)
  redis.call('PEXPIRE', set, int(ttl / 1000 + 60000))
end
for _, rate in ipairs(rates) do
  -- Kept until the limit is full again, plus a minute.
  redis.call('SET', rate[1], int(rate[2]), 'PX', int((rate[2] - now) / 1000 + 60000))
end
for _, budget in ipairs(budgets) do
  redis.call('HINCRBY', budget[1], 'reserved', int(cost))
  redis.call('HSET', budget[1], 'r:' .. request, int(cost))
  redis.call('ZADD', budget[2], int(expiry), request)
  if budget[3] > 0 then
    redis.call('PEXPIREAT', budget[1], int(budget[3]))
    redis.call('PEXPIREAT', budget[2], int(budget[3]))
  end
end
return {1, now, unpack(tats)}
