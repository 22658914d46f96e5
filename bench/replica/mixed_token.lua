-- The mixed scenario (bench/wrk/mixed.lua) as a client that reads its own writes: each
-- connection remembers the X-Consistency-Token of its last command and sends it with its
-- lists, so a replica answers only once it has replayed that command (docs/scaling.md).
dofile(os.getenv("WRK_LUA_DIR") .. "/mixed.lua")
local last_token = nil
local plain_list_req = list_req
function list_req()
  if not last_token then return plain_list_req() end
  local user = "u" .. math.random(1, N_SEED_USERS)
  local h = headers_for(user)
  h["X-Consistency-Token"] = last_token
  return wrk.format("GET", "/api/" .. user .. "/tasks", h)
end
function response(status, headers, body)
  local token = headers["x-consistency-token"] or headers["X-Consistency-Token"]
  if token then last_token = token end
end
