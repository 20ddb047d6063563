"""The Lua scripts of the journey store, each one atomic step on one journey's keys (one hash tag).

START and TRANSITION share KEYS = journey hash, idempotency hash, events stream
(`JourneyKeys.script_keys`) and the first ARGV:

    1 idempotency key   2 request hash   3 journey id   4 updates channel   5 payload (canonical JSON)
    6 state after       7 terminal after ('1'/'0')      8 expiry in seconds after this step
    9 channel          10 role          11 actor id

START adds 12 definition id, 13 definition version, 14 member bank, 15 customer.
TRANSITION adds 12 definition id, 13 transition name, 14 expected version,
15 the states it may leave from (space-separated names; names never contain spaces).

Both answer {'ok', <event field/value pairs>} for a new transition and, for an
idempotency key seen before with the same request hash, the same answer read
back from the stored event, so that every answer to one key is identical. The
refusals are {'reused'}, {'not_found'}, {'terminal', state}, {'conflict',
current version} and {'not_available', state}; nothing is written unless 'ok'.

The checks run in this order: the journey exists; a repeated key is answered
(before the version check, since a retry carries the version it was made
against); the journey has not ended; the version is the expected one; the
transition leaves from the current state. Channel, role and payload are
checked in Python from the definition before the script runs: they do not
depend on the journey's state.

ENTER_WAITING and LEAVE_WAITING keep one work queue (KEYS = queue sorted set,
versions hash; ARGV = journey id, version); see waiting.py.
"""

from __future__ import annotations

from typing import Final

_COMMON: Final = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function repeated(seen)
  local hash, version = string.match(seen, '^(%x+) (%d+)$')
  if hash ~= ARGV[2] then
    return {'reused'}
  end
  local entries = redis.call('XRANGE', KEYS[3], version .. '-0', version .. '-0')
  if #entries == 0 then
    return redis.error_reply('event ' .. version .. ' of ' .. KEYS[3] .. ' is missing')
  end
  local answer = {'ok'}
  for _, value in ipairs(entries[1][2]) do answer[#answer + 1] = value end
  return answer
end

local function commit(version, from_state, transition, at)
  local v = string.format('%d', version)
  local event = {'version', v, 'transition', transition, 'from', from_state, 'to', ARGV[6],
    'channel', ARGV[9], 'role', ARGV[10], 'actor', ARGV[11], 'payload', ARGV[5], 'key', ARGV[1],
    'at', at}
  redis.call('HSET', KEYS[1], 'state', ARGV[6], 'version', v, 'terminal', ARGV[7],
    'updated_at', at, 'data:' .. transition, ARGV[5])
  redis.call('XADD', KEYS[3], v .. '-0', unpack(event))
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. v)
  for i = 1, 3 do
    redis.call('EXPIRE', KEYS[i], ARGV[8])
  end
  -- The channel carries the journey's tag, so SPUBLISH stays in the slot of the keys.
  redis.call('SPUBLISH', ARGV[4], cjson.encode({journeyId = ARGV[3], version = version,
    state = ARGV[6], transition = transition}))
  local answer = {'ok'}
  for _, value in ipairs(event) do answer[#answer + 1] = value end
  return answer
end
"""

START: Final = (
    _COMMON
    + """
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen then
  return repeated(seen)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'reused'}
end
local at = string.format('%d', now_ms())
redis.call('HSET', KEYS[1], 'definition', ARGV[12], 'definition_version', ARGV[13],
  'member_bank', ARGV[14], 'customer', ARGV[15], 'created_at', at)
return commit(1, '', 'start', at)
"""
)

TRANSITION: Final = (
    _COMMON
    + """
local journey = redis.call('HMGET', KEYS[1], 'definition', 'state', 'version', 'terminal')
if journey[1] ~= ARGV[12] then
  return {'not_found'}
end
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen then
  return repeated(seen)
end
if journey[4] == '1' then
  return {'terminal', journey[2]}
end
local current = tonumber(journey[3])
if current ~= tonumber(ARGV[14]) then
  return {'conflict', current}
end
if not string.find(' ' .. ARGV[15] .. ' ', ' ' .. journey[2] .. ' ', 1, true) then
  return {'not_available', journey[2]}
end
return commit(current + 1, journey[2], ARGV[13], string.format('%d', now_ms()))
"""
)

# The version guard keeps a late or repeated step from undoing a newer one (waiting.py).
ENTER_WAITING: Final = """
local stored = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) > stored then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 1
"""

LEAVE_WAITING: Final = """
local stored = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if stored > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""
