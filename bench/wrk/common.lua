-- Shared wrk helpers, loaded with dofile by the scenario scripts.
-- Adapted from shared/bench/wrk/common.lua: the same users, task ids, bodies and token file format,
-- plus the requests of the scenarios the shared scripts do not have (get one, toggle, global feed).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init_rng()
  math.randomseed(os.time() * 1000 + (tid or 0))
  for _ = 1, 10 do math.random() end
  load_tokens()
end

-- AUTH HOOK. Optional bearer tokens: WRK_TOKENS names a file of "user token" lines; requests for a listed
-- user carry "Authorization: Bearer <token>". Without it, no Authorization header is sent.
-- The global feed (role auditor, no user in its path) uses the token of the pseudo-user FEED_USER.
-- bench/lib/tokens.py writes such a file with `tasks token USER` (see bench/README.md).
TOKENS = {}
FEED_USER = "@feed"
function load_tokens()
  local path = os.getenv("WRK_TOKENS")
  if not path or path == "" then return end
  for line in io.lines(path) do
    local user, token = line:match("^(%S+)%s+(%S+)$")
    if user then TOKENS[user] = token end
  end
end

function headers_for(user, base)
  local h = {}
  for k, v in pairs(base or {}) do h[k] = v end
  if TOKENS[user] then h["Authorization"] = "Bearer " .. TOKENS[user] end
  return h
end

JSON_HDR = { ["Content-Type"] = "application/json" }
N_SEED_USERS = 5000
N_SEED_TASKS = 100000
-- one TaskCreated event per seeded task, positions 1..N_SEED_EVENTS (fresh database, see bench/sql/seed_tasks.sql)
N_SEED_EVENTS = N_SEED_TASKS
FEED_PAGE = 1000

-- Seeded task n: id 00000000-0000-4000-8000-<n as 12 hex digits>, owner u((n-1)%5000+1)
function seeded_task()
  local n = math.random(1, N_SEED_TASKS)
  local user = "u" .. ((n - 1) % N_SEED_USERS + 1)
  return user, string.format("/api/%s/tasks/00000000-0000-4000-8000-%012x", user, n)
end

function create_req(user)
  local body = '{"title":"bench task ' .. math.random(1, 1000000) .. '","description":"created by wrk"}'
  return wrk.format("POST", "/api/" .. user .. "/tasks", headers_for(user, JSON_HDR), body)
end

function list_req()
  local user = "u" .. math.random(1, N_SEED_USERS)
  return wrk.format("GET", "/api/" .. user .. "/tasks", headers_for(user))
end

function get_req()
  local user, path = seeded_task()
  return wrk.format("GET", path, headers_for(user))
end

function toggle_req()
  local user, path = seeded_task()
  return wrk.format("PATCH", path .. "/complete", headers_for(user))
end

-- A full page of the global feed: after = a random multiple of FEED_PAGE, so every answer holds FEED_PAGE events.
function feed_req()
  local after = FEED_PAGE * math.random(0, N_SEED_EVENTS / FEED_PAGE - 1)
  return wrk.format("GET", string.format("/api/events?after=%d&limit=%d", after, FEED_PAGE), headers_for(FEED_USER))
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d rps=%.1f lat_avg_ms=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d sock_err=%d\n",
    summary.requests, summary.requests / secs, latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
