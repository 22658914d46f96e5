-- The mixed scenario (20% create, 10% toggle, 70% list) as a client that reads its own writes:
-- each connection remembers the X-Consistency-Token of its last command and sends it with its
-- lists, so a replica answers only once it has replayed that command (docs/scaling.md).
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
local last_token = nil
function init(args) init_rng() end
function request()
  local r = math.random(1, 100)
  if r <= 20 then
    return create_req("u" .. math.random(1, N_SEED_USERS))
  elseif r <= 30 then
    return toggle_req()
  end
  local user = "u" .. math.random(1, N_SEED_USERS)
  local h = headers_for(user)
  if last_token then h["X-Consistency-Token"] = last_token end
  return wrk.format("GET", "/api/" .. user .. "/tasks", h)
end
function response(status, headers, body)
  local token = headers["x-consistency-token"] or headers["X-Consistency-Token"]
  if token then last_token = token end
end
