"""``make bench`` has one entry point; the suite only checks that it answers.

The benchmarks themselves never run in the suite: their figures depend on the
machine, and no test asserts on time.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_run_py_help_lists_the_options_of_a_run():
    result = subprocess.run([sys.executable, str(RUN), "--help"], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    for option in ("--quick", "--only", "--connections", "--workers", "--no-peer", "--generator", "--baseline"):
        assert option in result.stdout


def test_run_py_refuses_an_unknown_measure():
    result = subprocess.run([sys.executable, str(RUN), "--only", "8"], capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert "unknown measures: 8" in result.stderr
