"""What machine the figures were measured on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001
        return "not installed"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine shows here)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe() -> dict[str, str]:
    """Cores, memory, CPU model, OS, Python and the versions that matter."""
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    return {
        "cores": f"{usable} usable ({cores} online)",
        "memory": _memory(),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "django": _version("Django"),
        "gunicorn": _version("gunicorn"),
        "requests": _version("requests"),
        "requests-oauthlib": _version("requests-oauthlib"),
        "playwright": _version("playwright"),
        "load average at start (1/5/15 min)": load_average(),
    }


def processes() -> Iterator[tuple[int, dict[str, str]]]:
    """Each running process's pid and the fields of its ``/proc/<pid>/status`` (Linux);
    a process that ends while being read is skipped."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        yield int(entry.name), {
            name: value.strip()
            for name, value in (line.split(":", 1) for line in status.splitlines() if ":" in line)
        }
