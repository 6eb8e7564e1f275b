"""The benchmark harness behind ``benchmarks/run.py`` (``make bench``).

    servers    our provider under gunicorn on a fresh database; the peer (node
               oidc-provider) installed from the npm registry into a cache folder
    flows      set-up over real HTTP: logins, SSO cookies, codes, refresh tokens
    load       wrk runs (Lua scenarios in benchmarks/wrk/), repetitions, medians
    micro      single-machine rates: argon2id, token verification (ours, bare
               ``cryptography``, node ``jose``)
    scale      delegation rows: detection, the data generator, token sizes
    profiling  py-spy under load, summarised by function and by package
    report     machine facts, the Markdown table, latest.md / latest.json
"""
