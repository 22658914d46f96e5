-- 100% POST /api/w{1..1000}/tasks (new task, random writer among 1000 users); as shared/bench/wrk/create.lua
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request() return create_req("w" .. math.random(1, 1000)) end
