"""The files an operator installs (deploy/, gunicorn.conf.py) are valid and name things that exist."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_support import BIN, REPO

UNITS = sorted((REPO / "deploy" / "systemd").glob("idp*.*"))
INSTALLED = "/opt/comptexpert"


def installed_here(text: str) -> str:
    """A unit as if the repository were installed at /opt/comptexpert with its venv."""
    return (text.replace(f"{INSTALLED}/.venv/bin", str(BIN)).replace(INSTALLED, str(REPO))
            .replace("/etc/comptexpert/idp.env", str(REPO / "deploy" / "idp.env.example")))


def test_the_systemd_units_pass_systemd_analyze(tmp_path):
    assert {u.name for u in UNITS} >= {"idp.service", "idp-events.service", "idp-cleanup.service",
                                        "idp-cleanup.timer"}
    for unit in UNITS:
        (tmp_path / unit.name).write_text(installed_here(unit.read_text()))
    result = subprocess.run(["systemd-analyze", "verify", *sorted(p.name for p in tmp_path.iterdir())],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_each_unit_runs_a_command_that_exists(unit):
    (line,) = re.findall(r"^ExecStart=(.+)$", unit.read_text(), re.M)
    command = shlex.split(installed_here(line))
    if Path(command[0]).name == "gunicorn":
        command = [*command[:-1], "--check-config", command[-1]]  # loads the application too
    else:
        command.append("--help")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_of_the_example_environment_is_read_somewhere():
    example = (REPO / "deploy" / "idp.env.example").read_text()
    named = set(re.findall(r"^IDP_([A-Z_]+)=", example, re.M))
    read = set()
    for source in (REPO / "config.py", REPO / "gunicorn.conf.py"):
        read |= set(re.findall(r'env\("([A-Z_]+)"', source.read_text()))
    assert named and named <= read, f"not read by config.py nor gunicorn.conf.py: {sorted(named - read)}"


def test_the_example_environment_is_accepted_in_production():
    settings = dict(re.findall(r"^(IDP_[A-Z_]+)=(.*)$", (REPO / "deploy" / "idp.env.example").read_text(), re.M))
    settings.pop("IDP_CLIENT_CA_FILE"), settings.pop("IDP_CLIENT_CRL_FILES")  # files of the real machine
    code = "import config, tempfile; c = config.load(tempfile.mkdtemp()); print(c['IDP_ENV'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", **settings})
    assert result.stdout.strip() == "production", result.stderr
