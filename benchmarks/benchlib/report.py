"""The machine the figures come from, the Markdown table, and the result files."""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .servers import REPO

PYTHON_PACKAGES = ("gunicorn", "Flask", "Authlib", "joserfc", "SQLAlchemy", "psycopg", "cryptography", "PyJWT",
                   "argon2-cffi")


def _first_line(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        memory = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(memory / 1024 / 1024, 1),
        "os": platform.platform(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def versions(node: str | None, wrk_version: str) -> dict:
    found = {"python": platform.python_version(), "node": _first_line([node, "--version"]) if node else "missing",
             "wrk": wrk_version}
    for package in PYTHON_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "missing"
    return found


def git_revision() -> str:
    if not shutil.which("git"):
        return "?"
    revision = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return revision + (" (with uncommitted changes)" if dirty else "")


# -- the table ------------------------------------------------------------------------

@dataclass
class Row:
    key: str
    measure: str
    ours: str
    reference: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def number(value, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return text.replace(",", " ") + (f" {unit}" if unit else "")


def thousands(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def ratio(a, b) -> float | None:
    if a is None or b in (None, 0):
        return None
    return round(a / b, 2)


def median_of(measures: dict, *path):
    node = measures
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node.get("median") if isinstance(node, dict) else node


def _failures(measures: dict, name: str) -> str:
    parts = []
    for side in ("ours", "peer"):
        series = measures.get(name, {}).get(side) or {}
        if series.get("error"):
            parts.append(f"{side}: {series['error'][:160]}")
        elif series.get("failed"):
            sample = next((run["error_sample"] for run in series["runs"] if run["error_sample"]), "")
            parts.append(f"{side}: {series['failed']} failed ({sample[:100]})")
    return "; ".join(parts)


def build_rows(results: dict) -> list[Row]:
    m = results["measures"]
    rows = []

    def pair(key, label, name, unit, target, threshold):
        if name not in m:
            return
        ours, peer = median_of(m, name, "ours"), median_of(m, name, "peer")
        r = ratio(ours, peer)
        rows.append(Row(key, label, number(ours, unit), number(peer, unit) + " (peer)" if peer is not None else "n/a",
                        r, target, None if r is None or threshold is None else r >= threshold,
                        m[name].get("note", "") or _failures(m, name)))

    pair("1", "client_credentials token requests", "client_credentials", "/s", "≥ 1.0", 1.0)
    pair("2", "refresh_token requests (rotation; rights as they exist now)", "refresh_token", "/s", "≥ 1.0", 1.0)

    scale = m.get("refresh_token_scale")
    if scale is not None:
        if scale.get("na"):
            rows.append(Row("2", "refresh_token at 10k and 1M delegation rows", "n/a", "n/a", None,
                            "≥ 1.0; 1M/10k ≤ 1.2", None, scale["na"]))
        else:
            peer = median_of(m, "refresh_token", "peer")
            for rows_count, data in sorted(scale.get("by_rows", {}).items(), key=lambda item: int(item[0])):
                ours = median_of(data, "ours")
                r = ratio(ours, peer)
                rows.append(Row("2", f"refresh_token, {thousands(int(rows_count))} delegation rows",
                                number(ours, "/s"), number(peer, "/s") + " (peer)" if peer else "n/a", r, "≥ 1.0",
                                None if r is None else r >= 1.0, data.get("note", "") or data.get("error") or ""))
            counts = sorted(scale.get("by_rows", {}), key=int)
            if len(counts) >= 2:
                small, large = counts[0], counts[-1]
                a, b = median_of(scale["by_rows"][large], "ours"), median_of(scale["by_rows"][small], "ours")
                r = ratio(b, a)
                label = f"refresh_token cost at {thousands(int(large))} rows / at {thousands(int(small))} rows"
                rows.append(Row("2", label, number(a, "/s"), number(b, "/s") + " (ours, fewer rows)", r, "≤ 1.2",
                                None if r is None else r <= 1.2, "time per token; 1.0 = flat"))

    pair("3", "authorization code round trips with an SSO session (authorize → code → token)", "authorization_code",
         "/s", "—", None)

    login = m.get("login")
    if login is not None:
        ours, raw = median_of(login, "ours"), median_of(login, "argon2_raw")
        r = ratio(ours, raw)
        rows.append(Row("4", "password logins through the login page", number(ours, "/s"),
                        number(raw, "/s") + f" (raw argon2id, {login.get('processes')} processes)", r, "≥ 0.9",
                        None if r is None else r >= 0.9, login.get("note", "") or _failures(m, "login")))

    verify = m.get("rp_verify")
    if verify is not None:
        ours, raw, jose = (median_of(verify, name) for name in ("rp_library", "raw_cryptography", "jose"))
        r = ratio(ours, raw)
        rows.append(Row("5", "access-token verifications, comptexpert_rp (1 process)", number(ours, "/s"),
                        number(raw, "/s") + " (bare cryptography ECDSA)", r, "≥ 0.8", None if r is None else r >= 0.8,
                        verify.get("note", "")))
        rows.append(Row("5", "access-token verifications, comptexpert_rp vs node jose (1 process)", number(ours, "/s"),
                        number(jose, "/s") + " (jose jwtVerify)", ratio(ours, jose), "—", None, ""))

    memory = m.get("memory")
    if memory is not None:
        ours, peer = memory.get("ours", {}), memory.get("peer", {})
        ours_max, peer_max = ours.get("max_rss_mib"), peer.get("max_rss_mib")
        notes = [f"{moment}: ours {number(sides.get('ours', {}).get('max_rss_mib'), 'MiB')}"
                 for moment, sides in memory.get("snapshots", {}).items()]
        rows.append(Row("6", "memory per worker after the load (largest RSS; PSS in the details)",
                        number(ours_max, "MiB"),
                        number(peer_max, "MiB") + " (peer)" if peer_max else "n/a", ratio(ours_max, peer_max),
                        "ours ≤ 150 MB", None if ours_max is None else ours_max * 1.048576 <= 150, "; ".join(notes)))

    sizes = m.get("token_size")
    if sizes is not None:
        if sizes.get("na"):
            rows.append(Row("7", "access token size, collaborator with 1 / 10 / 50 firms", "n/a", "—", None,
                            "< 8 KB at 50 firms", None, sizes["na"]))
        else:
            values = sizes.get("bytes", {})
            text = " / ".join(number(values.get(k)) for k in ("1", "10", "50")) + " bytes"
            largest = values.get("50")
            rows.append(Row("7", "access token size, collaborator with 1 / 10 / 50 firms", text, "—", None,
                            "< 8 KB at 50 firms", None if largest is None else largest < 8192, sizes.get("note", "")))
    return rows


def markdown(results: dict, baseline: dict | None = None) -> str:
    info, settings = results["machine"], results["settings"]
    lines = [
        f"# Benchmarks: Comptexpert against panva's oidc-provider ({results['mode']} run)",
        "",
        f"Run {results['generated_at']} on {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM "
        f"({info['os']}); load average {info['load_average_at_start']} at the start, "
        f"{info.get('load_average_at_end')} at the end (other work on the machine makes every figure lower).",
        "",
        f"Ours: {results['setup']['ours'].get('summary', '?')}. "
        f"Peer: {results['setup'].get('peer', {}).get('summary', 'not run')}. "
        f"Load: wrk, {settings['connections']} connections for both sides, "
        f"{settings['repeat']} × {settings['seconds']:g} s per measure after {settings['warmup']:g} s of warm-up, "
        f"the two sides alternating; medians shown. Code at {results['revision']}.",
        "",
    ]
    rows = build_rows(results)
    before = {}
    if baseline:
        before = {(row.key, row.measure): row for row in build_rows(baseline)}
    header = "| # | measure | ours | reference | ratio | target | met |"
    if baseline:
        header = "| # | measure | ours | ours before | reference | ratio | target | met |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        cells = [row.key, row.measure, row.ours]
        if baseline:
            cells.append(before[(row.key, row.measure)].ours if (row.key, row.measure) in before else "—")
        cells += [row.reference, f"{row.ratio:.2f}" if row.ratio is not None else "—", row.target, met]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row.key}. {row.measure}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "Notes:", *notes]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()), ""]
    return "\n".join(lines)


def details(results: dict) -> str:
    """Every run, for the curious: rates, latencies, failures."""
    lines = ["## Every run", ""]
    for name, measure in results["measures"].items():
        for side in ("ours", "peer", "argon2_raw", "rp_library", "raw_cryptography", "jose"):
            series = measure.get(side) if isinstance(measure, dict) else None
            if not isinstance(series, dict) or "runs" not in series:
                continue
            runs = ", ".join(
                f"{run['rate']:.1f}" + (f" (p50 {run['latency_p50_ms']} ms, p99 {run['latency_p99_ms']} ms)"
                                        if "latency_p50_ms" in run else "")
                for run in (r if isinstance(r, dict) else {"rate": r} for r in series["runs"])
            )
            lines.append(f"- {name} / {side}: {runs}" + (f" — error: {series['error']}" if series.get("error") else ""))
    memory = results["measures"].get("memory")
    if memory:
        moments = [("after the whole load", memory)] + list(memory.get("snapshots", {}).items())
        for moment, sides in moments:
            for side, data in sides.items():
                if isinstance(data, dict) and data.get("workers"):
                    workers = "; ".join(f"RSS {w.get('rss_mib')} / PSS {w.get('pss_mib')}" for w in data["workers"])
                    lines.append(f"- memory {moment} / {side} (MiB per worker): {workers}; "
                                 f"master {data.get('master')}")
    return "\n".join(lines) + "\n"


def write(results: dict, output_dir: Path, prefix: str, baseline: dict | None) -> tuple[Path, Path, str]:
    output_dir.mkdir(parents=True, exist_ok=True)
    table = markdown(results, baseline)
    md_path, json_path = output_dir / f"{prefix}.md", output_dir / f"{prefix}.json"
    md_path.write_text(table + "\n" + details(results))
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return md_path, json_path, table


DOC = REPO / "docs" / "benchmarks.md"
DOC_START, DOC_END = "<!-- latest results: written by benchmarks/run.py -->", "<!-- end of latest results -->"


def update_doc(table: str, doc: Path = DOC) -> bool:
    """Put the table of a full run into docs/benchmarks.md, between its markers."""
    try:
        text = doc.read_text()
    except OSError:
        return False
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start < 0 or end < start:
        return False
    # The table's own title is the page's section title already.
    body = "\n".join(line for line in table.splitlines() if not line.startswith("# "))
    doc.write_text(text[:start + len(DOC_START)] + "\n" + body.strip() + "\n" + text[end:])
    return True
