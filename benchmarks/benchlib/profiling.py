"""Where our workers spend their time under load: py-spy, summarised.

``py-spy record --subprocesses`` samples every gunicorn worker while wrk
runs a scenario; the raw (collapsed) stacks are then added up three ways:
by package (idp, authlib, SQLAlchemy, the database driver, JOSE and
cryptography, Flask and Werkzeug, gunicorn...), by function including its
callees, and by function alone (the leaf of each sample).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from .servers import REPO

# Frame: "function (path/to/file.py:123)"; the first frames of a stack may be
# "process 123:"..."" or a thread name, which are not code.
FRAME_RE = re.compile(r"^(?P<function>.+?) \((?P<file>[^():]+\.py)(?::\d+)?\)$")

# First match wins, on the file path.
PACKAGES = (
    ("idp (our code)", ("/idp/",)),
    ("keys/, scopes/ (our code)", ("/keys/", "/scopes/")),
    ("config (our code)", ("/config.py",)),
    ("authlib", ("/authlib/",)),
    ("joserfc", ("/joserfc/",)),
    ("cryptography", ("/cryptography/",)),
    ("SQLAlchemy", ("/sqlalchemy/",)),
    ("Flask-SQLAlchemy", ("/flask_sqlalchemy/",)),
    ("psycopg", ("/psycopg/", "/psycopg_binary/", "/psycopg_pool/")),
    ("sqlite3", ("/sqlite3/",)),
    ("Flask-Limiter, Flask-WTF, Flask-Babel", ("/flask_limiter/", "/limits/", "/flask_wtf/", "/flask_babel/",
                                               "/babel/", "/wtforms/")),
    ("prometheus_client", ("/prometheus_client/",)),
    ("Werkzeug", ("/werkzeug/",)),
    ("Flask", ("/flask/",)),
    ("Jinja2, MarkupSafe", ("/jinja2/", "/markupsafe/")),
    ("gunicorn", ("/gunicorn/",)),
    ("logging, json (stdlib)", ("/logging/", "/json/")),
)


def py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def package_of(path: str) -> str:
    for name, markers in PACKAGES:
        if any(marker in path for marker in markers):
            return name
    if "/site-packages/" in path:
        return "other libraries: " + path.split("/site-packages/")[1].split("/")[0]
    return "Python standard library and other"


def short(path: str) -> str:
    for marker in ("/site-packages/", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def parse(raw: str) -> tuple[int, list[tuple[list[tuple[str, str]], int]]]:
    """Collapsed stacks → (total samples, [(frames root first, count)])."""
    stacks, total = [], 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for frame in stack.split(";"):
            match = FRAME_RE.match(frame.strip())
            if match:
                frames.append((match.group("function"), match.group("file")))
        if frames:
            stacks.append((frames, int(count)))
            total += int(count)
    return total, stacks


def summarise(raw: str, top: int = 30) -> dict:
    total, stacks = parse(raw)
    by_package, inclusive, leaf, idp_inclusive = Counter(), Counter(), Counter(), Counter()
    for frames, count in stacks:
        function, path = frames[-1]
        leaf[f"{function} ({short(path)})"] += count
        by_package[package_of(path)] += count
        for name in {f"{function} ({short(path)})" for function, path in frames}:
            inclusive[name] += count
        for name in {f"{function} ({short(path)})" for function, path in frames if "/idp/" in path}:
            idp_inclusive[name] += count

    def share(counter: Counter) -> list[tuple[str, float]]:
        return [(name, round(100 * count / total, 1)) for name, count in counter.most_common(top)] if total else []

    return {"samples": total, "by_package": share(by_package), "inclusive": share(inclusive),
            "self": share(leaf), "idp_inclusive": share(idp_inclusive)}


def render(summary: dict, title: str) -> str:
    lines = [title, "=" * len(title), "", f"{summary['samples']} samples (py-spy, every worker)", ""]
    for key, heading in (("by_package", "Self time by package (the frame running when sampled)"),
                         ("idp_inclusive", "Our functions (idp/), time including what they call"),
                         ("inclusive", "Every function, time including what it calls"),
                         ("self", "Every function, self time")):
        lines += [heading, "-" * len(heading)]
        lines += [f"{percent:5.1f}%  {name}" for name, percent in summary[key]]
        lines.append("")
    return "\n".join(lines)


class Recorder:
    """py-spy on a gunicorn master and its workers, in the background while load runs."""

    def __init__(self, pid: int, seconds: float, output: Path, rate: int = 200, gil_only: bool = False):
        self.output = output
        self.cmd = [py_spy() or "py-spy", "record", "--pid", str(pid), "--subprocesses", "--duration",
                    str(max(1, round(seconds))), "--rate", str(rate), "--format", "raw", "--output", str(output),
                    "--nonblocking", "--full-filenames"]
        if gil_only:
            # Only samples holding the GIL: Python's CPU work, without the
            # waits on the database and the network.
            self.cmd.append("--gil")
        self.result: subprocess.CompletedProcess | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.result = subprocess.run(self.cmd, capture_output=True, text=True)

    def start(self) -> "Recorder":
        self.thread.start()
        return self

    def finish(self) -> str:
        self.thread.join()
        if not self.output.exists():
            detail = (self.result.stderr if self.result else "")[-1500:]
            raise RuntimeError(f"py-spy wrote nothing: {detail}")
        return self.output.read_text()
