-- 100% GET /api/events?after=N&limit=1000: a full page of the global event feed (role auditor),
-- N a random multiple of 1000 below the 100,000 seeded events. The token is FEED_USER's line in WRK_TOKENS.
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
function init(args) init_rng() end
function request() return feed_req() end
