import { createHash } from 'node:crypto'

/**
 * Every state change of a stream is one Lua script, so it is atomic on the server: no append can
 * land after a terminal marker, two creates cannot both win, and a producer declared lost cannot
 * keep writing (its next append answers `lost`). Keys are always `streamKeys()` order:
 * stream, meta, lease, cancel. Status strings in meta: live | complete | lost | failed.
 */

/** ARGV: meta JSON, owner instance id, createdAt ms, leaseMs, live TTL ms. */
const CREATE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'stream-exists' end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('XADD', KEYS[1], '0-*', 'c', 'open')
redis.call('HSET', KEYS[2], 'status', 'live', 'meta', ARGV[1], 'owner', ARGV[2],
  'createdAt', ARGV[3], 'bytes', 0, 'head', 1)
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 'ok'
`

/**
 * ARGV: data, event, has-event flag, UTF-8 size, maxEvents, maxBytes. Returns the new id, or the
 * status that refused it. Retention is exact but LOGICAL: `head` in meta is the oldest seq kept,
 * advanced oldest first until both limits hold (`bytes` counts what is kept from `head` on).
 * Readers never yield an entry below `head`. Physical trimming is approximate and cheap (whole
 * macro-nodes): `MAXLEN ~ maxEvents + 1` keeps every entry from the previous `head` on, so the byte
 * accounting below can still read them, and `MINID ~ head` follows when bytes bind harder.
 */
const APPEND = `
local state = redis.call('HMGET', KEYS[2], 'status', 'bytes', 'head')
if not state[1] then return 'unknown-stream' end
if state[1] ~= 'live' then return state[1] end
local keep = tonumber(ARGV[5]) + 1
local id
if ARGV[3] == '1' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', keep, '0-*', 'd', ARGV[1], 'e', ARGV[2])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', keep, '0-*', 'd', ARGV[1])
end
local seq = tonumber(string.sub(id, 3))
local bytes = tonumber(state[2]) + tonumber(ARGV[4])
local head = tonumber(state[3])
local minSeq = seq - tonumber(ARGV[5]) + 1
local maxBytes = tonumber(ARGV[6])
local cut = head
while cut < minSeq or bytes > maxBytes do
  local want = math.max(1, math.min(100, minSeq - cut))
  local batch = redis.call('XRANGE', KEYS[1], '0-' .. string.format('%d', cut), '+', 'COUNT', want)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    if cut >= minSeq and bytes <= maxBytes then break end
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'd' or fields[i] == 'e' then bytes = bytes - #fields[i + 1] end
    end
    cut = tonumber(string.sub(entry[1], 3)) + 1
  end
end
if cut > head then
  if cut > minSeq then
    redis.call('XTRIM', KEYS[1], 'MINID', '~', '0-' .. string.format('%d', cut))
  end
  redis.call('HSET', KEYS[2], 'bytes', bytes, 'head', cut)
else
  redis.call('HSET', KEYS[2], 'bytes', bytes)
end
return id
`

/**
 * ARGV: reason (complete | lost | failed), ttlMs, '1' to act only when the lease is gone. Writes
 * the terminal marker every reader stops at, then lets the whole stream expire after ttlMs.
 */
const END = `
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return 'unknown-stream' end
if status ~= 'live' then return status end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 'live' end
redis.call('XADD', KEYS[1], '0-*', 'c', ARGV[1])
redis.call('HSET', KEYS[2], 'status', ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return 'ended'
`

/** ARGV: owner, leaseMs, live TTL ms. Returns live, cancelled, or the status that ended it. */
const HEARTBEAT = `
local status = redis.call('HGET', KEYS[2], 'status')
if status ~= 'live' then return status or 'unknown-stream' end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[4]) == 1 then return 'cancelled' end
return 'live'
`

/** ARGV: TTL ms of the cancel flag. Returns the owner to notify, '' when not live. */
const CANCEL = `
local state = redis.call('HMGET', KEYS[2], 'status', 'owner')
if not state[1] then return 'unknown-stream' end
if state[1] ~= 'live' then return '' end
redis.call('SET', KEYS[4], '1', 'PX', ARGV[1])
return state[2]
`

const SCRIPTS = { CREATE, APPEND, END, HEARTBEAT, CANCEL } as const
export type ScriptName = keyof typeof SCRIPTS

/** The subset of a node-redis client the scripts need. */
export interface ScriptClient {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, source]) => [
    name,
    createHash('sha1').update(source).digest('hex'),
  ]),
) as Record<ScriptName, string>

/**
 * Runs a script by SHA (small, pipelines well) and falls back to its source once per server that
 * does not have it cached yet: after a restart or a SCRIPT FLUSH.
 */
export async function runScript(
  client: ScriptClient,
  name: ScriptName,
  keys: string[],
  args: string[],
): Promise<string> {
  const options = { keys, arguments: args }
  try {
    return String(await client.evalSha(SHAS[name], options))
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return String(await client.eval(SCRIPTS[name], options))
  }
}
