"""docs/reliability.md's two sections: each fault run rewrites its own, keeps the other's.

Fast, no cluster: the writers on a temporary file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import report
from tests.faults.load import Figures
from tests.faults.service_load import ServiceFigures


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "reliability.md"
    monkeypatch.setattr(report, "PATH", target)
    return target


def site(completed: int) -> dict[str, Figures]:
    return {"one instance SIGKILLed": Figures("k", attempted=completed, completed=completed,
                                              recovery_s=4.7, passed=True)}


def service(forged: int) -> dict[str, ServiceFigures]:
    figures = ServiceFigures("p", calls=686, unavailable_503=96, unsigned_accepted=forged,
                             fault_s=4.04, recovery_s=None, passed=forged == 0,
                             problems=["approval signed by another device accepted"])
    return {"service: PostgreSQL down 3 s": figures}


def test_each_run_keeps_the_other_section(path: Path) -> None:
    report.write(site(74), quick=False, threads=12, baseline=4.2)
    report.write_service(service(0), quick=False, threads=8)
    text = path.read_text()
    assert "| one instance SIGKILLed | pass | 74 | 74 |" in text
    assert "| service: PostgreSQL down 3 s | pass | 4.0 | 686 | 96 | 0 |" in text
    assert text.index("# Reliability under faults") < text.index("## The service")

    report.write(site(80), quick=True, threads=6, baseline=4.0)  # the site's run again
    text = path.read_text()
    assert "| 80 | 80 |" in text and "| 74 | 74 |" not in text
    assert text.count("## The service") == 1
    assert "| service: PostgreSQL down 3 s | pass | 4.0 | 686 |" in text

    report.write_service(service(1), quick=True, threads=4)  # the service's run again
    text = path.read_text()
    assert text.count("# Reliability under faults") == 1 and "| 80 | 80 |" in text
    assert "| service: PostgreSQL down 3 s | **FAIL** | 4.0 | 686 | 96 | 0 | 0 | 0 | 0 | 1 |" \
        in text
    assert "never |" in text and "approval signed by another device accepted" in text


def test_the_service_section_alone_when_the_file_is_new(path: Path) -> None:
    report.write_service(service(0), quick=True, threads=4)
    assert path.read_text().lstrip().startswith("## The service (`toopher_server`)")
