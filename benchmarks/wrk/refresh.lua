-- refresh_token grant with rotation: every answer carries the next refresh
-- token, which the next request of this connection uses. A refused refresh
-- breaks the chain: the thread stops and the failure is reported.
-- row: path, Authorization header, first refresh token.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path, authorization, refresh_token
local headers = {}

function init(args)
  path, authorization, refresh_token = row[1], row[2], row[3]
  headers = {
    ["Authorization"] = authorization,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
end

function request()
  return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. refresh_token)
end

function response(status, headers, body)
  local next_token = status == 200 and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if next_token and string.find(body, '"access_token"', 1, true) then
    ok = ok + 1
    refresh_token = next_token
  else
    fail(status, body)
    wrk.thread:stop()
  end
end
