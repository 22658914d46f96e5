-- 20% POST create (random seeded user), 10% PATCH toggle (random seeded task), 70% GET list (random seeded user);
-- as shared/bench/wrk/mixed.lua
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request()
  local r = math.random(1, 100)
  if r <= 20 then
    return create_req("u" .. math.random(1, N_SEED_USERS))
  elseif r <= 30 then
    return toggle_req()
  else
    return list_req()
  end
end
