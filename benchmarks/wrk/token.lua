-- One token request, the same at every turn (client_credentials).
-- row: path, Authorization header, form body.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local request_text

function init(args)
  request_text = wrk.format("POST", row[1], {
    ["Authorization"] = row[2],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }, row[3])
end

function request()
  return request_text
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"access_token"', 1, true) then
    ok = ok + 1
  else
    fail(status, body)
  end
end
