-- 100% GET /api/u{1..5000}/tasks (20 seeded rows per user, newest first); as shared/bench/wrk/list.lua
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request() return list_req() end
