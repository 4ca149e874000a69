"""Lua scripts for the hot path: each runs atomically inside Redis, against Redis's own clock.

Attempt state (written by services.load_state):
  att:{id}        hash   user, round, deadline (epoch ms), started (ms), status (open|submitted|expired),
                         closed (ms), o:<qid> ",<option ids>,", m:<qid> "1" if multi-select,
                         k:<qid> correct option ids (the key: read only by the server, never sent)
  att:{id}:ans    hash   <qid> -> "<seq>|<option ids csv>"
  answers         stream one entry per accepted answer: a (attempt), q, s (csv), n (seq), t (ms)
"""

# KEYS: attempt hash, answers hash, stream. ARGV: user id, question id, selected csv, seq, attempt id.
ANSWER = r"""
local meta = redis.call('HMGET', KEYS[1], 'user', 'deadline', 'status', 'o:' .. ARGV[2], 'm:' .. ARGV[2])
if not meta[1] then return {'err', 'attempt_not_found'} end
if meta[1] ~= ARGV[1] then return {'err', 'forbidden'} end
if meta[3] ~= 'open' then return {'err', 'attempt_closed'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(meta[2]) then return {'err', 'deadline_passed'} end
if not meta[4] then return {'err', 'unknown_question'} end
local n = 0
for oid in string.gmatch(ARGV[3], '[^,]+') do
  if not string.find(meta[4], ',' .. oid .. ',', 1, true) then return {'err', 'unknown_option'} end
  n = n + 1
end
if n > 1 and meta[5] ~= '1' then return {'err', 'single_choice'} end
local seq = tonumber(ARGV[4])
local prev = redis.call('HGET', KEYS[2], ARGV[2])
if prev then
  local sep = string.find(prev, '|', 1, true)
  local prev_seq = tonumber(string.sub(prev, 1, sep - 1))
  -- A retry (same seq) or an older write arriving late: keep what is stored, ack it again.
  if seq <= prev_seq then return {'dup', string.sub(prev, sep + 1), tostring(prev_seq)} end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4] .. '|' .. ARGV[3])
redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[1]))
redis.call('XADD', KEYS[3], '*', 'a', ARGV[5], 'q', ARGV[2], 's', ARGV[3], 'n', ARGV[4], 't', tostring(now))
return {'ok', ARGV[3], ARGV[4]}
"""

# Closes an open attempt (submit by its owner, or the sweeper once the deadline passed) and returns
# what was saved; after this no answer script can change it. Closing twice returns the first result.
# KEYS: attempt hash, answers hash. ARGV: user id ('' for the server), mode ('submit' | 'sweep').
CLOSE = r"""
local meta = redis.call('HMGET', KEYS[1], 'user', 'deadline', 'status', 'closed')
if not meta[1] then return {'err', 'attempt_not_found'} end
if ARGV[1] ~= '' and meta[1] ~= ARGV[1] then return {'err', 'forbidden'} end
local status, closed = meta[3], meta[4]
if status == 'open' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local deadline = tonumber(meta[2])
  if now >= deadline then
    status, closed = 'expired', tostring(deadline)
  elseif ARGV[2] == 'sweep' then
    return {'err', 'not_due'}
  else
    status, closed = 'submitted', tostring(now)
  end
  redis.call('HSET', KEYS[1], 'status', status, 'closed', closed)
end
return {status, closed, redis.call('HGETALL', KEYS[2])}
"""

# Keeps a contestant's best attempt on the round's sorted set; bumps the version only on a change,
# which is what the leaderboard pusher watches. KEYS: zset, details hash, version. ARGV: member, score, details.
RECORD_ENTRY = r"""
local changed = redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[2], ARGV[1])
if changed == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('INCR', KEYS[3])
end
return changed
"""
