"""Every import inside a function of django_toopher says why it is not at the top (a
comment on its line, or on the line before its run of imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import django_toopher

ROOT = Path(django_toopher.__file__).parent


def _unexplained(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for func in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            index = node.lineno - 1
            if "#" in lines[index]:
                continue
            while index > 0 and (not lines[index - 1].strip()
                                 or lines[index - 1].lstrip().startswith(("from ", "import "))):
                index -= 1
            if not lines[index - 1].lstrip().startswith("#"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_function_level_import_says_why():
    found = [place for path in sorted(ROOT.rglob("*.py")) for place in _unexplained(path)]
    assert found == []
