"""The README's configuration reference matches what config.py reads."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_read_by_config_is_documented():
    read = set(re.findall(r'env\("([A-Z0-9_]+)"', (ROOT / "config.py").read_text()))
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in read if f"IDP_{name}" not in readme)
    assert not missing, f"undocumented settings: {missing}"


def test_the_two_commands_are_in_the_readme_and_the_makefile():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
