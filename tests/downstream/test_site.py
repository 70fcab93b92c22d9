"""A downstream site (``tests/downstream/site``) tests its views with the helpers the
package ships: pytest with ``django_toopher.pytest_plugin``, and Django's own test
runner with ``ToopherTestMixin``. Each runs in a subprocess from the site's folder,
with the site's own settings, as a site's CI would run it; and the ``pytest11`` entry
point leaves every other pytest project alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent / "site"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _run(args: list[str], cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True,
        timeout=timeout,
    )


def test_the_site_uses_only_the_public_helpers() -> None:
    sources = [p for p in SITE.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) >= 6
    for path in sources:
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) tests\b", text, re.M), path
        assert "internal" not in text, f"{path} reaches into django_toopher.internal"
        assert "toopher_sandbox" not in text, f"{path} uses the sandbox package directly"


def test_the_site_suite_passes_under_pytest_with_the_plugin() -> None:
    proc = _run(["-m", "pytest", "-q"], SITE)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    # 7 pytest tests and the 3 unittest ones, which pytest-django runs too.
    assert "10 passed" in output, output[-4000:]


def test_the_site_suite_passes_under_djangos_test_runner_with_the_mixin() -> None:
    proc = _run(["manage.py", "test", "shop.tests.test_unittest", "-v", "2"], SITE)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "Ran 3 tests" in output and "\nOK" in output, output[-4000:]


NEEDS_FIXTURE = textwrap.dedent(
    """
    def test_uses_the_phone(toopher_phone):
        pass
    """
)


@pytest.mark.parametrize(
    ("how", "activates"),
    [
        ("installed only", False),
        ("-p django_toopher.pytest_plugin", True),
        ("ini toopher_fixtures = true", True),
    ],
)
def test_the_fixtures_exist_only_where_a_project_opts_in(
    tmp_path: Path, how: str, activates: bool
) -> None:
    (tmp_path / "test_other.py").write_text(NEEDS_FIXTURE)
    ini = "[pytest]\n" + ("toopher_fixtures = true\n" if how.startswith("ini") else "")
    (tmp_path / "pytest.ini").write_text(ini)
    args = ["-m", "pytest", "--fixtures", "-p", "no:cacheprovider"]
    if how.startswith("-p"):
        args += ["-p", "django_toopher.pytest_plugin"]
    proc = _run(args, tmp_path, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    for name in ("toopher_sandbox", "toopher_phone", "toopher_paired_user",
                 "toopher_verified_client"):
        assert (re.search(rf"^{name}\b", output, re.M) is not None) is activates, (name, output)
    if not activates:
        # and a test that asks for one fails the ordinary way, nothing started
        proc = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path, timeout=120)
        assert "fixture 'toopher_phone' not found" in proc.stdout, proc.stdout[-3000:]
