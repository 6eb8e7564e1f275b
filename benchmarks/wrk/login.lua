-- Password logins through the real login page: POST the form with the CSRF
-- token of this connection's browser session (fetched once during set-up:
-- Flask-WTF ties the token to the session cookie). A redirect is a login.
-- row: path, Cookie header, form body (csrf_token, login, password).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local request_text

function init(args)
  request_text = wrk.format("POST", row[1], {
    ["Cookie"] = row[2],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, row[3])
end

function request()
  return request_text
end

function response(status, headers, body)
  if status == 302 or status == 303 then
    ok = ok + 1
  else
    fail(status, body)
  end
end
