"""The whole demo with one command: ``make demo`` (or ``python examples/run_demo.py``).

Starts, on the loopback:

    http://127.0.0.1:5000   Comptexpert, the provider (a fresh SQLite database, demo data)
    http://127.0.0.1:5001   the « site de l'Ordre » (examples/site_ordre)
    http://127.0.0.1:5002   jesignexpert (examples/jesignexpert)
    idp events deliver      pushes security events to both sites

prints the URLs and the logins, and stops everything on Ctrl-C. Each
process logs to a file in the instance folder (printed at start). The
ports are those the demo clients are registered with (``idp demo``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PROVIDER_PORT = 5000
# (directory, client_id, port, resource): as idp/demo.py registers them.
SITES = [
    ("site_ordre", "site-ordre", 5001, "https://www.experts-comptables.fr", "Site de l'Ordre"),
    ("jesignexpert", "jesignexpert", 5002, "https://jesignexpert.com", "jesignexpert"),
]


def idp_command() -> list[str]:
    """The ``idp`` console script next to this Python, or the same through ``-c``."""
    script = Path(sys.executable).parent / "idp"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from idp.cli import main; sys.argv[0] = 'idp'; main()"]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def wait_for(url: str, process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} stopped at start-up; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f} s; see {log}")


class Demo:
    def __init__(self, instance: Path):
        self.instance = instance
        self.logs = instance / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes: list[tuple[str, subprocess.Popen]] = []
        base = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
        self.provider_env = dict(base, IDP_ENV="development", IDP_ISSUER=f"http://{HOST}:{PROVIDER_PORT}",
                                 IDP_INSTANCE_PATH=str(instance), IDP_LOG_FORMAT="text", PYTHONUNBUFFERED="1",
                                 FLASK_DEBUG="0")
        # The sites import comptexpert_rp from the checkout when it is not installed.
        pythonpath = os.pathsep.join(filter(None, [str(REPO / "rp"), base.get("PYTHONPATH")]))
        self.site_env = dict(base, PYTHONPATH=pythonpath, PYTHONUNBUFFERED="1",
                             COMPTEXPERT_ISSUER=f"http://{HOST}:{PROVIDER_PORT}")

    def run(self, *args: str) -> str:
        result = subprocess.run([*idp_command(), *args], cwd=REPO, env=self.provider_env, capture_output=True,
                                text=True)
        if result.returncode != 0:
            raise SystemExit(f"idp {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self, name: str, command: list[str], env: dict) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            # A process group of its own: Ctrl-C in the terminal reaches us
            # only, and we stop each child cleanly, in order.
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append((name, process))
        return process, log

    def stop(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in reversed(self.processes):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    def launch(self) -> dict:
        self.run("init")
        data = json.loads(self.run("demo", "--json"))
        provider, log = self.start("provider", [*idp_command(), "run", "--host", HOST, "--port",
                                                str(PROVIDER_PORT), "--no-reload"], self.provider_env)
        wait_for(f"http://{HOST}:{PROVIDER_PORT}/.well-known/openid-configuration", provider, "The provider", log)
        self.start("events", [*idp_command(), "events", "deliver", "--interval", "1"], self.provider_env)
        for directory, client_id, port, resource, title in SITES:
            env = dict(self.site_env, CLIENT_ID=client_id, PORT=str(port), SITE_URL=f"http://{HOST}:{port}",
                       RESOURCE=resource, CLIENT_SECRET=f"demo-secret-{client_id}-0123456789abcdef")
            site, log = self.start(directory, [sys.executable, str(REPO / "examples" / directory / "app.py")], env)
            wait_for(f"http://{HOST}:{port}/", site, title, log)
        return data

    def watch(self) -> None:
        """Until Ctrl-C, or until a process stops by itself."""
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    print(f"\n{name} stopped (exit {process.returncode}); see {self.logs / (name + '.log')}")
                    return
            time.sleep(0.5)


def print_welcome(data: dict, demo: Demo) -> None:
    users = {user["role"]: user for user in data.get("users", [])}
    print(f"""
Comptexpert demo is running (Ctrl-C stops everything).

  Provider          http://{HOST}:{PROVIDER_PORT}/compte/   (Mon Espace, Mes délégations)
  Site de l'Ordre   http://{HOST}:5001/
  jesignexpert      http://{HOST}:5002/
  Events            idp events deliver, every second
""")
    for role, label in (("collaborator", "Collaborator"), ("expert", "Expert-comptable")):
        if role in users:
            user = users[role]
            print(f"  {label:17} {user['email']} / {user['password']}  (identifiant {user['identifiant']})")
    for delegation in data.get("delegations", []):
        print(f"  Delegated in {delegation['firm']} ({delegation['siret']}): {', '.join(delegation['rights'])}")
    print(f"""
Try it: log in as the collaborator on the site de l'Ordre, open jesignexpert (no
password asked: single sign-on), then, as the expert in another browser, deactivate
a delegation in Mes délégations: the sites drop the right at the next page.
Logs: {demo.logs}
""")


def interrupt(*_) -> None:
    """SIGTERM stops the demo as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary instance folder at exit.")
    args = parser.parse_args(argv)
    busy = [port for port in (PROVIDER_PORT, *(site[2] for site in SITES)) if not port_free(port)]
    if busy:
        print(f"Ports already in use on {HOST}: {', '.join(map(str, busy))}. Stop what uses them first.")
        return 1
    instance = Path(tempfile.mkdtemp(prefix="comptexpert-demo-"))
    demo = Demo(instance)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        print(f"Starting the demo in {instance} ...")
        data = demo.launch()
        print_welcome(data, demo)
        demo.watch()
    except KeyboardInterrupt:
        print("\nStopping ...")
    finally:
        demo.stop()
        if args.keep:
            print(f"Instance kept in {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
