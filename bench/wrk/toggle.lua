-- 100% PATCH /api/{owner}/tasks/{id}/complete of a random seeded task (one event appended, read row updated)
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request() return toggle_req() end
