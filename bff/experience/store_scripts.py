"""The Lua scripts that change the published experience, each one atomic step.

Every key shares the hash tag `{xp}`, so in Redis Cluster they sit in one
slot and one script may use them together (the change channel is not a key).

PUBLISH: KEYS = current, the new version's hash, history stream, schedule
hash, due schedule set. ARGV = expected current version (0: none yet),
channel, schedule id ('' for none), the schedule record to write when it is
given, the files (JSON), then the version's field/value pairs. It writes
only when the current version is still `expected`, and, for a scheduled
change, only when the change is still due (so it is applied once); then it
stores the version, moves `current`, appends the history entry and
publishes {"version": n}. Answers {"ok", new version}, {"conflict", current
version} or {"gone", current version} (the scheduled change was applied or
cancelled by another process); nothing is written unless "ok".

FINISH_SCHEDULED: KEYS = schedule hash, due schedule set. ARGV = id, the
new record. Takes a change off the due set and rewrites its record (failed,
cancelled) only if it was still due; answers 1, or 0 when it was not.
"""

from __future__ import annotations

from typing import Final

PUBLISH: Final = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then
  return {'conflict', current}
end
if ARGV[3] ~= '' then
  if redis.call('ZREM', KEYS[5], ARGV[3]) == 0 then
    return {'gone', current}
  end
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
end
local version = current + 1
local meta = {}
for i = 6, #ARGV do meta[#meta + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], 'files', ARGV[5], unpack(meta))
redis.call('SET', KEYS[1], version)
redis.call('XADD', KEYS[3], '*', unpack(meta))
redis.call('PUBLISH', ARGV[2], cjson.encode({version = version}))
return {'ok', version}
"""

FINISH_SCHEDULED: Final = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
