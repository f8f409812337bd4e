-- Sets budget windows' earlier spend, read from the ledger, unless another replica got
-- there first. KEYS: each window's hash; ARGV: spent and expire_at_ms (0: never) per
-- window.

for i = 1, #KEYS do
  local spent, expire_at = ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  redis.call('HSETNX', KEYS[i], 'spent', spent)
  redis.call('HSETNX', KEYS[i], 'reserved', '0')
  if expire_at > 0 then
    redis.call('PEXPIREAT', KEYS[i], int(expire_at))
  end
end
return #KEYS
