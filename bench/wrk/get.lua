-- 100% GET /api/{owner}/tasks/{id} of a random seeded task (one read row)
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request() return get_req() end
