"""The distribution: ``python -m build`` makes an sdist and a wheel that install and work.

The sources are copied to a temporary directory first, so the build leaves nothing in
the work tree and sees only what a fresh clone holds. The wheel is then installed with
``--no-deps`` into a fresh venv whose dependencies (Django, requests, ...) come from the
running interpreter's site-packages through a ``.pth`` line, so no network is needed and
the editable install of this repository is not visible there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("toopher", "django_toopher", "toopher_sandbox")
#: Directories of data (and migrations) that must travel with each package.
DATA_DIRS = ("templates", "static", "migrations", "locale", "words")
SOURCE_FILES = ("setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".DS_Store")


def _source_data_files() -> set[str]:
    """Every file under a package's data directories in the work tree (posix paths)."""
    found = set()
    for package in PACKAGES:
        for data_dir in DATA_DIRS:
            base = ROOT / package / data_dir
            if not base.is_dir():
                continue
            for path in base.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the sdist and the wheel (from the sdist) of a copy of the sources."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    src.mkdir()
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=IGNORED)
    out = work / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"python -m build failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0], "work": work}


@pytest.fixture(scope="module")
def wheel_names(dist: dict[str, Path]) -> set[str]:
    with zipfile.ZipFile(dist["wheel"]) as zf:
        return set(zf.namelist())


def test_wheel_holds_the_three_packages_and_nothing_else(wheel_names: set[str]) -> None:
    for package in PACKAGES:
        assert f"{package}/__init__.py" in wheel_names
    top_levels = {name.split("/", 1)[0] for name in wheel_names}
    top_levels = {t for t in top_levels if not t.endswith(".dist-info")}
    assert top_levels == set(PACKAGES)


def test_wheel_holds_every_template_static_file_and_migration(wheel_names: set[str]) -> None:
    expected = _source_data_files()
    missing = sorted(expected - wheel_names)
    assert not missing, f"left out of the wheel: {missing}"
    # The apps that have them really ship them (not a vacuous pass on an empty tree).
    for package in ("django_toopher", "toopher_sandbox"):
        assert f"{package}/migrations/0001_initial.py" in wheel_names
        assert any(n.startswith(f"{package}/templates/") for n in wheel_names), package
    assert any(n.startswith("toopher_sandbox/static/") for n in wheel_names)


def test_wheel_metadata_has_the_test_extra_and_the_dependencies(
    dist: dict[str, Path], wheel_names: set[str]
) -> None:
    metadata_name = next(n for n in wheel_names if n.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(dist["wheel"]) as zf:
        metadata = zf.read(metadata_name).decode()
    assert "Name: django-toopher" in metadata
    assert "Provides-Extra: test" in metadata
    for requirement in ("Django", "requests", "requests-oauthlib", "oauthlib", "segno"):
        assert f"Requires-Dist: {requirement}" in metadata, requirement
    assert "django-toopher" in metadata.split("\n\n", 1)[1]  # the README is the description


def test_sdist_holds_readme_license_and_data(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as tf:
        names = {name.split("/", 1)[1] for name in tf.getnames() if "/" in name}
    for name in ("README.md", "LICENSE", "setup.cfg", "pyproject.toml"):
        assert name in names
    missing = sorted(_source_data_files() - names)
    assert not missing, f"left out of the sdist: {missing}"


CHECK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import django
    from django.conf import settings

    here = Path(sys.argv[1])
    settings.configure(
        DEBUG=True,
        SECRET_KEY="packaging-test",
        INSTALLED_APPS=[
            "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
            "django.contrib.sessions", "django.contrib.messages",
            "django.contrib.staticfiles", "django_toopher", "toopher_sandbox",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": str(here / "db.sqlite3")}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True, "OPTIONS": {}}],
        STATIC_URL="/static/",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        TOOPHER={"CONSUMER_KEY": "k", "CONSUMER_SECRET": "s",
                 "API_URL": "http://127.0.0.1:9/v1"},
    )
    django.setup()

    import django_toopher, toopher, toopher_sandbox
    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder
    from django.template.loader import get_template

    call_command("migrate", verbosity=0)
    applied = {app for app, _ in MigrationRecorder(
        __import__("django.db", fromlist=["connection"]).connection).applied_migrations()}

    templates, statics = [], []
    for module in (django_toopher, toopher_sandbox):
        root = Path(module.__file__).parent
        for path in sorted((root / "templates").rglob("*.html")):
            name = path.relative_to(root / "templates").as_posix()
            get_template(name)  # parses: every tag library it loads is there too
            templates.append(name)
        for path in sorted((root / "static").rglob("*")):
            if path.is_file():
                name = path.relative_to(root / "static").as_posix()
                assert finders.find(name), name
                statics.append(name)

    print(json.dumps({
        "files": {m.__name__: m.__file__ for m in (toopher, django_toopher, toopher_sandbox)},
        "version": toopher.__version__,
        "applied": sorted(applied),
        "templates": templates,
        "statics": statics,
    }))
    """
)


@pytest.fixture(scope="module")
def installed(dist: dict[str, Path]) -> Path:
    """A fresh venv with the wheel installed (--no-deps); returns its python."""
    env_dir = dist["work"] / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies from the running interpreter, appended after the venv's own
    # site-packages. A plain path in a .pth file does not run the .pth files found
    # there, so this repository's editable install stays invisible.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "_host_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(dist["wheel"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return python


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def test_installed_wheel_imports_migrates_and_finds_templates_and_static(
    installed: Path, dist: dict[str, Path], wheel_names: set[str]
) -> None:
    here = dist["work"] / "check"
    here.mkdir()
    proc = subprocess.run(
        [str(installed), "-c", CHECK_SCRIPT, str(here)],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    venv_dir = installed.parent.parent
    for name, path in report["files"].items():
        assert Path(path).is_relative_to(venv_dir), f"{name} imported from {path}, not the wheel"
    assert {"django_toopher", "toopher_sandbox"} <= set(report["applied"])
    shipped_templates = {n.split("/templates/", 1)[1] for n in wheel_names if "/templates/" in n}
    assert set(report["templates"]) == shipped_templates
    assert report["statics"], "no static files found through the staticfiles finders"


def test_installed_sandbox_command_runs(installed: Path, dist: dict[str, Path]) -> None:
    proc = subprocess.run(
        [str(installed), "-m", "toopher_sandbox", "--help"],
        cwd=dist["work"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--port" in proc.stdout


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)|<img src=\"([^\"]+)\"")


@pytest.mark.parametrize("document", ["README.md", "docs/index.md"])
def test_relative_links_of_the_front_door_resolve(document: str) -> None:
    path = ROOT / document
    targets = [a or b for a, b in LINK.findall(path.read_text())]
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, f"no relative link found in {document}"
    missing = [t for t in local if not (path.parent / t).exists()]
    assert not missing, f"{document} links to missing files: {missing}"
