"""The Lua scripts that commit registry changes: one per kind of write, all with the same frame.

Every script gets the app's keys only (all under the app's hash tag, so they
share one Redis Cluster slot) and runs the same three steps atomically:

1. check that the app's generation is still the one the caller read
   (optimistic concurrency: the caller decided on that state);
2. write (the part that differs per script);
3. bump the generation, append the audit entry to the app's stream and
   publish {"app_id", "generation"} on the changes channel.

KEYS[1] is the app hash and KEYS[2] the audit stream; further keys belong to
the script. ARGV is: expected generation (-1: the app must not exist yet),
changes channel, app id, number of audit field pairs n, the n pairs, then the
script's own arguments. A script answers {"ok", new generation},
{"conflict", current generation} (nothing written) or, for ADD_VERSION,
{"exists", current generation} (nothing written).
"""

from __future__ import annotations

from typing import Final

_FRAME_START: Final = """
local app_key, audit_key = KEYS[1], KEYS[2]
local current = tonumber(redis.call('HGET', app_key, 'generation') or '-1')
if current ~= tonumber(ARGV[1]) then
  return {'conflict', current}
end
local first_body_arg = 5 + 2 * tonumber(ARGV[4])
local function body_args(from)
  local out = {}
  for i = from, #ARGV do out[#out + 1] = ARGV[i] end
  return out
end
"""

_FRAME_END: Final = """
local generation = redis.call('HINCRBY', app_key, 'generation', 1)
local entry = {'generation', tostring(generation)}
for i = 5, first_body_arg - 1 do entry[#entry + 1] = ARGV[i] end
redis.call('XADD', audit_key, '*', unpack(entry))
redis.call('PUBLISH', ARGV[2], cjson.encode({app_id = ARGV[3], generation = generation}))
return {'ok', generation}
"""


def _script(body: str) -> str:
    return _FRAME_START + body + _FRAME_END


# Body args: field/value pairs of the new app hash.
CREATE_APP: Final = _script("""
redis.call('HSET', app_key, unpack(body_args(first_body_arg)))
""")

# KEYS[3] version hash, KEYS[4] versions sorted set. Body args: the version, then the hash's pairs.
# The EXISTS check repeats what the generation check already ensures: a stored version is never overwritten.
ADD_VERSION: Final = _script("""
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {'exists', current}
end
redis.call('HSET', KEYS[3], unpack(body_args(first_body_arg + 1)))
redis.call('ZADD', KEYS[4], redis.call('ZCARD', KEYS[4]) + 1, ARGV[first_body_arg])
""")

# KEYS[3] version hash. Body args: pairs of the review fields (never the manifest, JWS or bundle digest).
UPDATE_REVIEW: Final = _script("""
redis.call('HSET', KEYS[3], unpack(body_args(first_body_arg)))
""")

# KEYS[3] release hash. Body args: pairs of the whole new release, which replaces the old one.
WRITE_RELEASE: Final = _script("""
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(body_args(first_body_arg)))
""")
