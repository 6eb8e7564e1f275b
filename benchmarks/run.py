"""``make bench``: Comptexpert against panva's oidc-provider, side by side, on this machine, in one run.

Sets everything up (a fresh database, our provider under gunicorn, the peer
installed from the npm registry into ~/.cache/comptexpert-bench and run with
node), loads both from wrk with the same concurrency, and prints a Markdown
table of medians and ratios; the same table, every run and the machine's
facts go to benchmarks/results/latest.md and latest.json (quick.* with
--quick). Nothing here is asserted by the test suite.

Measures (see docs/benchmarks.md):
  1  client_credentials token requests/s, ours / peer
  2  refresh_token requests/s, ours / peer; ours at 1M / at 10k delegation rows
     when the delegations table and a data generator exist
  3  authorization code round trips/s with an SSO session (authorize → code → token)
  4  password logins/s through the login page / raw argon2id rate, same processes
  5  access-token verifications/s: comptexpert_rp / bare cryptography / node jose
  6  memory (RSS, PSS) per worker after the load
  7  access token size for a collaborator with 1, 10 and 50 firms
  profile  py-spy of our workers under client_credentials load
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import flows, load, micro, profiling, report, scale, servers  # noqa: E402
from benchlib.servers import REPO, RESOURCE, SetupError  # noqa: E402

MEASURES = ("1", "2", "3", "4", "5", "6", "7", "profile")
# Flows under load, and the wrk scenario (benchmarks/wrk/<name>.lua) that drives each.
FLOWS = {"client_credentials": "token", "refresh_token": "refresh", "authorization_code": "authcode",
         "login": "login"}
BENCH_PASSWORD = "bench-Mot-de-passe-2026!"
DEFAULT_OUTPUT = REPO / "benchmarks" / "results"
FIRM_COUNTS = (1, 10, 50)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmark our provider against panva's oidc-provider on this machine, in one run.",
        epilog="Needs wrk, node and npm (Debian: apt-get install wrk nodejs npm); "
               "uses PostgreSQL and Redis when they answer.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="a short smoke run (1 × 3 s per measure, 1 s warm-up, 10,000 rows only); "
                             "results go to results/quick.* instead of latest.*")
    parser.add_argument("--seconds", type=float, help="length of one measured run (default 10, quick 3)")
    parser.add_argument("--repeat", type=int,
                        help="measured runs per measure and side; the median is kept (default 3, quick 1)")
    parser.add_argument("--warmup", type=float,
                        help="seconds of warm-up before each measure and side (default 5, quick 1)")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent connections, the same for both sides (16)")
    parser.add_argument("--workers", type=int, default=2 * cpus,
                        help=f"worker processes for each side (2 per core: {2 * cpus})")
    parser.add_argument("--only", help="comma-separated measures to run, among " + ", ".join(MEASURES))
    parser.add_argument("--gunicorn-args", type=shlex.split, default=[],
                        help="extra gunicorn options for ours, e.g. '--worker-class sync' (they win over the "
                             "repository's gunicorn.conf.py)")
    parser.add_argument("--no-peer", action="store_true", help="do not install or run the peer (ratios become n/a)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="an existing PostgreSQL database to connect to; the run creates and drops a database of its own "
             "beside it. 'sqlite' for SQLite files instead")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis for the peer's shared store (keys under a prefix of this run, removed after)")
    parser.add_argument("--generator", help="command filling a database with N delegation rows, '{rows}' standing "
                                            "for N (default: benchmarks/generate.py or idp demo --scale, if present)")
    parser.add_argument("--rows", help="delegation row counts for measure 2 (default 10000,1000000; quick 10000)")
    parser.add_argument("--profile-flows", default="client_credentials,refresh_token",
                        help="flows to profile with py-spy, comma-separated, among " + ", ".join(FLOWS)
                             + " (client_credentials,refresh_token)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT,
                        help="where results go; a full run into the default folder also updates docs/benchmarks.md")
    parser.add_argument("--baseline", type=Path, help="an earlier results JSON, shown as an 'ours before' column")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (3 if args.quick else 10)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    args.rows = [int(value) for value in (args.rows or ("10000" if args.quick else "10000,1000000")).split(",")]
    args.only = set(MEASURES) if not args.only else {value.strip() for value in args.only.split(",")}
    args.profile_flows = [value.strip() for value in args.profile_flows.split(",") if value.strip()]
    if set(args.profile_flows) - set(FLOWS):
        parser.error(f"unknown flows to profile: {', '.join(sorted(set(args.profile_flows) - set(FLOWS)))}")
    unknown = args.only - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures: {', '.join(sorted(unknown))}")
    return args


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Bench:
    """One benchmark run: the servers, the sides, the results as they come."""

    def __init__(self, args: argparse.Namespace, stack: contextlib.ExitStack):
        self.args, self.stack = args, stack
        self.workdir = Path(tempfile.mkdtemp(prefix="comptexpert-bench-"))
        stack.callback(shutil.rmtree, self.workdir, ignore_errors=True)
        self.node, self.npm = shutil.which("node"), shutil.which("npm")
        self.peer_dir: Path | None = None
        self.ours: flows.Side | None = None
        self.peer: flows.Side | None = None
        self.browsers: dict[str, list] = {}
        self.cached_rows: dict[tuple[str, str], list[list[str]]] = {}
        self.memory_snapshots: dict[str, dict] = {}
        self.results: dict = {
            "mode": "quick" if args.quick else "full",
            "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "settings": {"seconds": args.seconds, "repeat": args.repeat, "warmup": args.warmup,
                         "connections": args.connections, "workers": args.workers,
                         "gunicorn_args": args.gunicorn_args},
            "machine": report.machine(),
            "versions": report.versions(self.node, load.wrk_version()),
            "revision": report.git_revision(),
            "setup": {},
            "measures": {},
        }

    @property
    def measures(self) -> dict:
        return self.results["measures"]

    def sides(self) -> list[flows.Side]:
        return [side for side in (self.ours, self.peer) if side is not None]

    # -- set-up -------------------------------------------------------------------------
    def new_database(self, label: str) -> servers.Database:
        admin = None if self.args.database_url == "sqlite" else self.args.database_url
        database = servers.Database.create(admin, self.workdir, label)
        self.stack.callback(database.drop)
        return database

    def start_ours(self, database: servers.Database, label: str = "main") -> flows.Side:
        workdir = self.workdir / label
        workdir.mkdir(exist_ok=True)
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(self.workdir / "metrics"))
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)
        prepared = servers.prepare_ours(database, workdir, "https://comptexpert.bench.example", BENCH_PASSWORD)
        server = servers.start_ours(prepared, workdir, self.args.workers, servers.free_port(),
                                    extra_args=self.args.gunicorn_args)
        self.stack.callback(server.stop)
        return flows.Side(server, "/authorize")

    def set_up(self) -> None:
        say("setting up our provider")
        database = self.new_database("main")
        self.ours = self.start_ours(database)
        facts = self.ours.server.facts
        config = (facts["gunicorn_config"] or "flags") + "".join(f" {arg}" for arg in self.args.gunicorn_args)
        self.results["setup"]["ours"] = {
            "summary": f"gunicorn, {self.args.workers} workers ({config}), IDP_ENV=production, "
                       f"{'PostgreSQL ' if database.kind == 'postgresql' else ''}{database.version()}",
            "gunicorn_command": facts["gunicorn_command"], "database": database.kind,
        }
        self.results["versions"]["database"] = database.version()
        if self.args.no_peer:
            return
        if not (self.node and self.npm):
            say("node or npm missing: the peer is not run")
            return
        say("setting up the peer")
        self.peer_dir = servers.install_peer(self.npm)
        server = servers.start_peer(self.peer_dir, self.workdir, self.args.workers, servers.free_port(),
                                    self.args.redis_url, self.node)
        self.stack.callback(server.stop)
        if server.facts["redis_url"]:
            self.stack.callback(servers.redis_cleanup, server.facts["redis_url"], server.facts["redis_prefix"])
        self.peer = flows.Side(server, "/auth")
        versions = {name: servers.installed_version(self.peer_dir, name)
                    for name in ("oidc-provider", "jose", "ioredis")}
        self.results["versions"].update(versions)
        self.results["setup"]["peer"] = {
            "summary": f"oidc-provider {versions['oidc-provider']} on node {self.results['versions']['node']}, "
                       f"{server.facts['workers']} process(es) (node cluster), store: {server.facts['store']}",
            **{k: server.facts[k] for k in ("workers", "store")},
        }

    def sso_browsers(self, side: flows.Side) -> list:
        """One browser with an SSO session per connection (logged in once each)."""
        if side.name not in self.browsers:
            say(f"  {side.name}: {self.args.connections} SSO sessions")
            self.browsers[side.name] = [flows.browser_for(side) for _ in range(self.args.connections)]
        return self.browsers[side.name]

    # -- running -------------------------------------------------------------------------
    def series(self, scenario: str, sides: list[flows.Side], make_rows) -> dict[str, load.Series]:
        """Warm-up, then ``repeat`` runs per side, the sides alternating so drift hits both alike."""
        args = self.args
        out = {side.name: load.Series() for side in sides}
        for side in sides:
            try:
                if args.warmup:
                    load.run_wrk(side.base, scenario, make_rows(side), args.warmup, args.connections)
            except (SetupError, RuntimeError, OSError) as error:
                out[side.name].error = str(error)
        for index in range(args.repeat):
            for side in sides:
                if out[side.name].error:
                    continue
                try:
                    run = load.run_wrk(side.base, scenario, make_rows(side), args.seconds, args.connections)
                except (SetupError, RuntimeError, OSError) as error:
                    out[side.name].error = str(error)
                    say(f"  {side.name:4} {scenario} failed: {str(error)[:300]}")
                    continue
                out[side.name].runs.append(run)
                say(f"  {side.name:4} {scenario} run {index + 1}: {load.describe(run)}")
        return out

    def record(self, name: str, unit: str, series: dict[str, load.Series], **extra) -> None:
        self.measures[name] = {"unit": unit, **{side: s.as_dict() for side, s in series.items()}, **extra}

    def rows(self, flow: str, side: flows.Side) -> list[list[str]]:
        """wrk rows for ``flow`` on ``side``, one per connection (or one shared)."""
        if flow == "client_credentials":
            return [[side.token_path, side.authorization, side.client_credentials_body()]]
        if flow == "refresh_token":
            # Fresh refresh tokens for every run: each is single use, and a
            # token used twice revokes its whole family (reuse detection).
            return [[side.token_path, side.authorization, side.code_flow(browser)["refresh_token"]]
                    for browser in self.sso_browsers(side)]
        key = (flow, side.name)
        if key not in self.cached_rows:
            if flow == "authorization_code":
                self.cached_rows[key] = [side.authcode_row(browser) for browser in self.sso_browsers(side)]
            elif flow == "login":
                facts = side.server.facts
                self.cached_rows[key] = [flows.login_row(side, facts["email"], facts["password"])
                                         for _ in range(self.args.connections)]
            else:
                raise ValueError(f"unknown flow {flow}")
        return self.cached_rows[key]

    def measure_client_credentials(self) -> None:
        say("1. client_credentials")
        for side in self.sides():
            side.token_json({"grant_type": "client_credentials", "resource": RESOURCE})
        self.record("client_credentials", "tokens/s",
                    self.series("token", self.sides(), lambda s: self.rows("client_credentials", s)))

    def measure_refresh(self) -> None:
        say("2. refresh_token")
        self.record("refresh_token", "tokens/s",
                    self.series("refresh", self.sides(), lambda s: self.rows("refresh_token", s)))

    def measure_authorization_code(self) -> None:
        say("3. authorization code round trip with an SSO session")
        self.record("authorization_code", "round trips/s",
                    self.series("authcode", self.sides(), lambda s: self.rows("authorization_code", s)))

    def measure_login(self) -> None:
        say("4. password logins / raw argon2id")
        side, args = self.ours, self.args
        rows = self.rows("login", side)
        series = {"ours": load.Series(), "argon2_raw": load.Series()}
        if args.warmup:
            with contextlib.suppress(SetupError):
                load.run_wrk(side.base, "login", rows, args.warmup, args.connections)
        for index in range(args.repeat):
            try:
                run = load.run_wrk(side.base, "login", rows, args.seconds, args.connections)
                series["ours"].runs.append(run)
                say(f"  ours login run {index + 1}: {load.describe(run)}")
            except SetupError as error:
                series["ours"].error = str(error)
            rate = micro.argon2_rate(args.workers, args.seconds)
            series["argon2_raw"].runs.append(load.Run(rate, 0, args.seconds, rate, 0, 0, 0, 0))
            say(f"  raw argon2id, {args.workers} processes, run {index + 1}: {rate:.1f}/s")
        self.record("login", "logins/s", series, processes=args.workers,
                    argon2={"time_cost": micro.ARGON2_TIME_COST, "memory_cost": micro.ARGON2_MEMORY_COST,
                            "parallelism": micro.ARGON2_PARALLELISM})

    def measure_verification(self) -> None:
        say("5. access-token verification")
        side, args = self.ours, self.args
        browser = self.sso_browsers(side)[0]
        token = side.code_flow(browser)["access_token"]
        issuer, jwks_uri = side.server.issuer, side.base + "/jwks.json"
        import jwt
        import requests

        kid = jwt.get_unverified_header(token)["kid"]
        jwk = next(key for key in requests.get(jwks_uri, timeout=10).json()["keys"] if key["kid"] == kid)
        seconds = min(args.seconds, 5)
        result = {"rp_library": {"runs": []}, "raw_cryptography": {"runs": []}, "jose": {"runs": []},
                  "token_bytes": len(token)}
        for index in range(args.repeat):
            rates = {
                "rp_library": micro.rp_library_rate(token, issuer, RESOURCE, jwks_uri, seconds),
                "raw_cryptography": micro.raw_signature_rate(token, jwk, seconds),
            }
            if self.node and self.peer_dir:
                try:
                    rates["jose"] = micro.jose_rate(self.node, self.peer_dir, token, jwk, issuer, RESOURCE, seconds)
                except RuntimeError as error:
                    result["jose"]["error"] = str(error)
            for name, rate in rates.items():
                result[name]["runs"].append(rate)
            say(f"  run {index + 1}: " + ", ".join(f"{name} {rate:.0f}/s" for name, rate in rates.items()))
        import statistics

        for name in ("rp_library", "raw_cryptography", "jose"):
            runs = result[name]["runs"]
            result[name]["median"] = statistics.median(runs) if runs else None
        self.measures["rp_verify"] = result

    def profile(self) -> None:
        for flow in self.args.profile_flows:
            try:
                self.profile_flow(flow)
            except Exception as error:  # noqa: BLE001 - a failed profile must not lose the measures
                say(f"  profile of {flow} failed: {error!r}")
                self.results.setdefault("profile", {})[flow] = {"error": repr(error)[:2000]}

    def profile_flow(self, flow: str) -> None:
        """py-spy on every worker under ``flow`` load, twice: wall clock, then GIL holders only."""
        say(f"profile: py-spy on our workers under {flow} load")
        if not profiling.py_spy():
            self.results.setdefault("profile", {})[flow] = {"error": "py-spy is not installed (pip install py-spy)"}
            return
        side, args = self.ours, self.args
        seconds = max(args.seconds, 5)
        scenario = FLOWS[flow]
        sections, kept = [], {}
        views = (("wall", False, "Wall clock: every sample of a busy thread, waits on PostgreSQL included"),
                 ("cpu", True, "CPU: only samples holding the GIL (Python at work, waits excluded)"))
        for view, gil_only, title in views:
            raw_path = self.workdir / f"profile-{view}.raw"
            rows = self.rows(flow, side)  # set-up requests are not what is profiled
            recorder = profiling.Recorder(side.server.process.pid, seconds, raw_path, gil_only=gil_only).start()
            time.sleep(1)  # py-spy attaches to every worker before the load starts
            run = load.run_wrk(side.base, scenario, rows, seconds + 1, args.connections)
            try:
                summary = profiling.summarise(recorder.finish())
            except RuntimeError as error:
                raise RuntimeError(f"{view} view: {error}") from error
            sections.append(profiling.render(summary, f"{title} ({run.rate:.0f}/s while sampled)"))
            kept[view] = {key: summary[key][:12] for key in ("by_package", "idp_inclusive", "self")}
        header = (f"# Our workers under {flow} load: {args.workers} gunicorn workers, "
                  f"{args.connections} wrk connections, py-spy {seconds:g} s per view.\n"
                  f"# Written by benchmarks/run.py ({self.results['generated_at']}, "
                  f"code at {self.results['revision']}).\n\n")
        path = args.output_dir / f"{'quick-' if args.quick else ''}profile-{flow}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + "\n\n".join(sections))
        self.results.setdefault("profile", {})[flow] = {
            "file": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path), **kept}
        say(f"  written to {path}")

    def memory(self) -> dict:
        data = {}
        for side in self.sides():
            memory = side.server.memory()
            workers = memory["workers"]
            data[side.name] = {**memory,
                               "max_rss_mib": max((w.get("rss_mib", 0) for w in workers), default=None),
                               "max_pss_mib": max((w.get("pss_mib", 0) for w in workers), default=None)}
            say(f"  {side.name}: " + ", ".join(f"{w.get('rss_mib')} MiB" for w in workers))
        return data

    def measure_memory(self) -> None:
        say("6. memory per worker after the load")
        self.measures["memory"] = {**self.memory(), "snapshots": self.memory_snapshots}

    # -- delegation rows -------------------------------------------------------------------
    def measure_scale(self) -> None:
        say("2 (rows) and 7: delegation rows")
        wants_refresh, wants_sizes = "2" in self.args.only, "7" in self.args.only
        na = None
        if not scale.has_delegations(self.ours.server.facts["env"]["IDP_DATABASE_URL"]):
            na = "no delegations table yet: rights are not in the schema, nothing grows with delegations"
        command, origin = scale.find_generator(self.args.generator)
        if na is None and command is None:
            na = origin
        if na:
            say(f"  n/a: {na}")
            if wants_refresh:
                self.measures["refresh_token_scale"] = {"na": na}
            if wants_sizes:
                self.measures["token_size"] = {"na": na}
            return
        by_rows, sizes, ready = {}, {}, {}
        for rows in self.args.rows:
            entry = by_rows[str(rows)] = {}
            try:
                ready[rows] = self.scale_setup(rows, command, entry,
                                               sizes if wants_sizes and not sizes.get("bytes") else None, wants_refresh)
            except (SetupError, RuntimeError, OSError, ValueError) as error:
                entry["error"] = str(error)[:1000]
                say(f"  {rows} rows failed: {str(error)[:500]}")
        if wants_refresh:
            sides = [side for side, _ in ready.values() if side is not None]
            browsers = {side.name: found for side, found in ready.values() if side is not None}

            def make_rows(side):
                return [[side.token_path, side.authorization, side.code_flow(browser)["refresh_token"]]
                        for browser in browsers[side.name]]

            # Every size's server runs at once and they alternate, as ours and
            # the peer do: drift on the machine then hits every size alike.
            series = self.series("refresh", sides, make_rows)
            for rows, (side, _) in ready.items():
                if side is not None:
                    by_rows[str(rows)]["ours"] = series[side.name].as_dict()
            self.measures["refresh_token_scale"] = {"by_rows": by_rows, "generator": origin}
        if wants_sizes:
            self.measures["token_size"] = sizes or {"na": "no run produced sizes"}

    def scale_setup(self, rows: int, command: list[str], entry: dict, sizes: dict | None, refresh: bool):
        """A database of ``rows`` delegation rows and our server on it; its side and browsers for the refresh."""
        label = f"rows{rows}"
        database = self.new_database(label)
        workdir = self.workdir / label
        workdir.mkdir(exist_ok=True)
        instance = workdir / "instance"
        env = servers.ours_environment(database, instance, "https://comptexpert.bench.example")
        servers.run_checked(servers.idp_command() + ["init"], env=env, cwd=workdir, what="idp init")
        say(f"  generating {rows:,} delegation rows")
        started = time.monotonic()
        entry["generator_command"] = scale.generate(command, rows, env, REPO)
        entry["generation_seconds"] = round(time.monotonic() - started, 1)
        audiences = scale.audiences() or [RESOURCE]
        resources = [RESOURCE] + [a for a in audiences if a != RESOURCE]
        client = json.loads(servers.run_checked(
            servers.idp_command() + ["clients", "create", "--name", "Benchmark", "--client-id", "bench-rp",
                                     "--redirect-uri", servers.REDIRECT_URI, "--grant-type", "authorization_code",
                                     "--grant-type", "refresh_token", "--scope", servers.CLIENT_SCOPE, "--first-party",
                                     "--json"] + [arg for r in resources for arg in ("--resource", r)],
            env=env, cwd=workdir, what="idp clients create"))
        wanted = (10,) + (FIRM_COUNTS if sizes is not None else ())
        chosen = scale.collaborators_by_firms(database.url, tuple(dict.fromkeys(wanted)))
        people = {}
        for count, found in chosen.items():
            if found is None:
                continue
            user_id, firms = found
            scale.set_password(database.url, user_id, BENCH_PASSWORD)
            people[count] = (scale.user_email(database.url, user_id), firms)
        prepared = {"env": env, "client_id": client["client_id"], "client_secret": client["client_secret"],
                    "password": BENCH_PASSWORD}
        server = servers.start_ours(prepared, workdir, self.args.workers, servers.free_port(),
                                    extra_args=self.args.gunicorn_args)
        self.stack.callback(server.stop)
        if sizes is not None:
            self.token_sizes(server, people, resources, sizes)
        if not refresh:
            server.stop()
            return None, None
        if 10 not in people:
            server.stop()
            raise RuntimeError("no collaborator with about 10 firms in the generated data")
        email, firms = people[10]
        entry["note"] = f"collaborator with {firms} firms"
        server.name = f"ours at {rows:,} rows"
        side = flows.Side(server, "/authorize")
        return side, [flows.ours_browser(side, email, BENCH_PASSWORD) for _ in range(self.args.connections)]

    def token_sizes(self, server: servers.Server, people: dict, resources: list[str], sizes: dict) -> None:
        import jwt

        side = flows.Side(server, "/authorize")
        found, largest_audience, notes, carries_rights = {}, {}, [], False
        for count in FIRM_COUNTS:
            if count not in people:
                notes.append(f"no collaborator with about {count} firms in the generated data")
                continue
            email, firms = people[count]
            browser = flows.ours_browser(side, email, BENCH_PASSWORD)
            best = None
            for resource in resources:
                verifier, challenge = flows.pkce_pair()
                path = side.authorize_query(challenge) + "&" + urlencode({"resource": resource})
                code = side.code(browser, path)
                token = side.token_json({"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": servers.REDIRECT_URI, "code_verifier": verifier})
                size = len(token["access_token"])
                carries_rights = carries_rights or "authorization_details" in jwt.decode(
                    token["access_token"], options={"verify_signature": False})
                if best is None or size > best[0]:
                    best = (size, resource)
            found[str(count)] = best[0]
            largest_audience[str(count)] = best[1]
            if firms != count:
                notes.append(f"{count} firms measured with a collaborator of {firms}")
        sizes.clear()  # an earlier, smaller database may have left an "n/a"
        if not carries_rights:
            # Sizes of tokens without rights say nothing about rights in tokens.
            sizes.update({"na": "access tokens carry no rights yet (no authorization_details)",
                          "bytes_without_rights": found})
            return
        sizes.update({"bytes": found, "audience": largest_audience,
                      "note": "; ".join(notes + ["largest token over every audience"])})

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> dict:
        only = self.args.only
        self.set_up()
        steps = (("1", self.measure_client_credentials), ("2", self.measure_refresh),
                 ("3", self.measure_authorization_code), ("4", self.measure_login), ("5", self.measure_verification),
                 ("profile", self.profile), ("6", self.measure_memory))
        for key, step in steps:
            if key == "2" and "6" in only and "1" in only:
                # Before any login: what serving tokens alone needs (logins
                # hash with 19 MiB of memory per thread at work).
                say("  memory after client_credentials, before any login")
                self.memory_snapshots["after client_credentials, before any login"] = self.memory()
            if key == "4" and "6" in only and {"2", "3"} & only:
                # The token flows' set-up logs a browser in per connection.
                say("  memory after the token flows")
                self.memory_snapshots["after the token flows (their set-up logs browsers in)"] = self.memory()
            if key in only:
                try:
                    step()
                except Exception as error:  # noqa: BLE001 - one broken measure must not lose the others
                    say(f"  measure {key} failed: {error!r}\n{traceback.format_exc(limit=4)}")
                    self.results.setdefault("errors", {})[key] = repr(error)[:2000]
        if "2" in only or "7" in only:
            try:
                self.measure_scale()
            except Exception as error:  # noqa: BLE001 - report it with the rest
                say(f"  delegation rows failed: {error!r}\n{traceback.format_exc(limit=4)}")
                self.results.setdefault("errors", {})["scale"] = repr(error)[:2000]
        self.results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
        return self.results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [tool for tool in ("wrk",) if not shutil.which(tool)]
    if missing:
        say(f"missing: {', '.join(missing)} (Debian: apt-get install {' '.join(missing)})")
        return 2
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    with contextlib.ExitStack() as stack:
        bench = Bench(args, stack)
        try:
            results = bench.run()
        except SetupError as error:
            say(f"set-up failed: {error}")
            return 1
    prefix = "quick" if args.quick else "latest"
    md_path, json_path, table = report.write(results, args.output_dir, prefix, baseline)
    print(table)
    say(f"written: {md_path}, {json_path}")
    full = not args.quick and args.only == set(MEASURES) and args.output_dir == DEFAULT_OUTPUT
    if full and report.update_doc(table):
        say(f"table updated in {report.DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
