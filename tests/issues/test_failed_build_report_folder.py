"""Regression: a failed build whose --out parent folder did not exist crashed while writing its report."""

from conftest import copy_project, edit_cell

from nmbkg.config import Project
from nmbkg.pipeline import build


def test_report_written_when_out_parent_is_missing(tmp_path):
    """The report of a failed build goes next to the (not yet existing) output folder."""
    root = copy_project(tmp_path / "p")
    edit_cell(root, "measurements.tsv", 1, "value", "n/a")
    out = tmp_path / "new" / "deeper" / "dist"
    res = build(Project(root), out=out, reason=False)
    assert not res.ok
    assert (out.parent / "dist-problems.tsv").is_file() and not out.exists()
