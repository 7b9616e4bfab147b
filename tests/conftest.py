"""Shared fixtures: the real project, one real build of it, and tool requirements."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
REQUIRE_ALL = os.environ.get("NMBKG_REQUIRE_ALL") == "1"


def require_tool(ok: bool, reason: str) -> None:
    """Skip with a reason, or fail when NMBKG_REQUIRE_ALL=1 (CI installs every tool)."""
    if ok:
        return
    if REQUIRE_ALL:
        pytest.fail(f"NMBKG_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600):
    """Run `python -m nmbkg.cli ARGS` as a subprocess; returns CompletedProcess (text)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "nmbkg.cli", *args], check=False, cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def project():
    """The real project."""
    from nmbkg.config import Project

    return Project(ROOT)


@pytest.fixture(scope="session")
def built(project, tmp_path_factory):
    """One full build (with HermiT when Java is there) of the real kg/ into a temporary dist/."""
    from nmbkg.pipeline import build
    from nmbkg.reason import java_available

    require_tool(java_available(), "java is not installed (HermiT needs Java 17)")
    out = tmp_path_factory.mktemp("release") / "dist"
    res = build(project, out=out, reason=True)
    assert res.ok, "\n".join(p.line() for p in res.problems)
    return res


@pytest.fixture(scope="session")
def dist(built):
    """The release folder of the session build."""
    return built.out


@pytest.fixture(scope="session")
def engines(dist):
    """Both query engines loaded with the release."""
    from nmbkg.query import open_engine

    return {"oxigraph": open_engine(dist, "oxigraph"), "rdflib": open_engine(dist, "rdflib")}


def copy_project(tmp: Path) -> Path:
    """A throw-away copy of the project inputs (kg/, ontology/, queries/) to break on purpose."""
    for name in ("kg", "ontology", "queries"):
        shutil.copytree(ROOT / name, tmp / name)
    return tmp


def edit_cell(root: Path, file: str, row_index: int, column: str, value: str) -> int:
    """Set one cell of kg/<file> in a project copy (row_index 0 = header); returns the 1-based line number."""
    path = root / "kg" / file
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    cells = lines[row_index].split("\t")
    cells[header.index(column)] = value
    lines[row_index] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return row_index + 1
