"""Load from a separate process: wrk, driven by the Lua scenarios in benchmarks/wrk/.

wrk runs with as many threads as connections, so each Lua state drives one
connection and may carry state between its requests (see common.lua). The
rate reported is what the scenario counted as done (tokens issued, logins,
round trips) per second of the run, not raw HTTP requests.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field

from .servers import REPO, SetupError

LUA_DIR = REPO / "benchmarks" / "wrk"


@dataclass
class Run:
    """One wrk run: what succeeded, what failed, how fast and how long it took."""

    ok: int
    failed: int
    seconds: float
    rate: float
    latency_p50_ms: float
    latency_p99_ms: float
    socket_errors: int
    timeouts: int
    error_sample: str = ""


@dataclass
class Series:
    """Repeated runs of one scenario on one side; the median is what the table shows."""

    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def rates(self) -> list[float]:
        return [run.rate for run in self.runs]

    @property
    def median(self) -> float | None:
        return statistics.median(self.rates) if self.runs and not self.error else None

    @property
    def failed(self) -> int:
        return sum(run.failed for run in self.runs)

    def as_dict(self) -> dict:
        return {"median": self.median, "runs": [asdict(run) for run in self.runs], "error": self.error,
                "failed": self.failed}


def wrk_version() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        return "missing"
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    text = (result.stdout + result.stderr).strip()
    return text.splitlines()[0].split(" [")[0].removeprefix("wrk ") if text else "?"


def run_wrk(base_url: str, scenario: str, rows: list[list[str]], seconds: float, connections: int) -> Run:
    """Run ``benchmarks/wrk/<scenario>.lua`` against ``base_url`` for ``seconds``."""
    wrk = shutil.which("wrk")
    if not wrk:
        raise SetupError("wrk is not installed (Debian: apt-get install wrk)")
    for row in rows:
        if any("\t" in value or "\n" in value for value in row):
            raise SetupError("a wrk row value contains a tab or a newline")
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write("".join("\t".join(row) + "\n" for row in rows))
        data_path = handle.name
    try:
        env = {**os.environ, "BENCH_DATA": data_path, "BENCH_LUA_DIR": str(LUA_DIR)}
        cmd = [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "30s", "-s", str(LUA_DIR / f"{scenario}.lua"), base_url]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 120)
    finally:
        os.unlink(data_path)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise SetupError(f"wrk {scenario}: no result\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
    data = json.loads(line[len("BENCH-RESULT "):])
    elapsed = data["duration_us"] / 1e6
    return Run(
        ok=data["ok"], failed=data["failed"], seconds=round(elapsed, 2), rate=round(data["ok"] / elapsed, 1),
        latency_p50_ms=round(data["latency_p50_us"] / 1000, 2), latency_p99_ms=round(data["latency_p99_us"] / 1000, 2),
        socket_errors=data["socket_errors"], timeouts=data["timeouts"], error_sample=data["error_sample"],
    )


def describe(run: Run) -> str:
    text = f"{run.rate:9.1f}/s  p50 {run.latency_p50_ms:7.1f} ms  p99 {run.latency_p99_ms:7.1f} ms"
    if run.failed or run.socket_errors or run.timeouts:
        text += f"  FAILED {run.failed} (socket {run.socket_errors}, timeouts {run.timeouts}): {run.error_sample[:120]}"
    return text
