-- The authorization code round trip of a browser that already has an SSO
-- session: GET the authorization endpoint with the session cookie, read the
-- code from the redirect, redeem it at the token endpoint with PKCE. One
-- round trip (two requests) counts once.
-- row: authorize path with query, Cookie header, token path, Authorization
--      header, redirect_uri (URL-encoded), PKCE code_verifier.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local authorize_request
local token_path, token_headers, token_body_tail
local code = nil

function init(args)
  authorize_request = wrk.format("GET", row[1], { ["Cookie"] = row[2] })
  token_path = row[3]
  token_headers = {
    ["Authorization"] = row[4],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
  token_body_tail = "&redirect_uri=" .. row[5] .. "&code_verifier=" .. row[6]
end

function request()
  if code == nil then
    return authorize_request
  end
  return wrk.format("POST", token_path, token_headers, "grant_type=authorization_code&code=" .. code .. token_body_tail)
end

function response(status, headers, body)
  if code == nil then
    local location = header(headers, "Location") or ""
    code = string.match(location, "[?&]code=([^&#]+)")
    if code == nil then
      fail(status, location .. " " .. (body or ""))
    end
    return
  end
  code = nil
  if status == 200 and string.find(body, '"access_token"', 1, true) then
    ok = ok + 1
  else
    fail(status, body)
  end
end
