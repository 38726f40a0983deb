"""The documentation site builds in strict mode (``sphinx-build -W``): a broken link, a missing heading, a missing
include or a page in no table of contents fails ``make test``."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _build(source: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees"), str(source), str(out / "html")],
        capture_output=True, text=True,
    )


def _copy_site(root: Path) -> Path:
    """A copy of docs/ (without the study's run archive, build outputs and generated API stubs) in a tree whose
    other entries link to the repository's, so that links from the pages to files such as scripts/ resolve."""
    root.mkdir(parents=True)
    for entry in REPO.iterdir():
        if entry.name not in ("docs", "CHANGELOG.md", ".git", ".venv"):
            (root / entry.name).symlink_to(entry)
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("runs", "_build", "generated"))
    shutil.copy(REPO / "CHANGELOG.md", root / "CHANGELOG.md")  # included by docs/changelog.md: a real file beside docs/
    return root / "docs"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    result = _build(_copy_site(tmp_path / "src"), tmp_path / "out")
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stderr[-6000:]}"
    html = tmp_path / "out" / "html"
    for page in ("index", "install", "losses", "data", "training", "evaluation", "postprocessing", "studies", "api", "study/report"):
        assert (html / f"{page}.html").is_file(), page
    api = (html / "api" / "generated" / "tbfl.losses.html").read_text(encoding="utf-8")
    assert "TimeBalancedFocalLoss" in api and "time_balanced_weights" in (html / "api" / "generated" / "tbfl.weights.html").read_text(encoding="utf-8")
    studies = (html / "studies.html").read_text(encoding="utf-8")
    assert "tbfl_k250_g2" in studies  # the summary table, included from the generated report


def test_a_broken_link_fails_the_build(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(REPO / "docs" / "conf.py", source / "conf.py")
    (source / "index.md").write_text("# Site\n\nSee [the data page](data.md#no-such-heading) and [nothing](missing.md).\n")
    (source / "data.md").write_text("# Data\n\n```{toctree}\n```\n")
    result = _build(source, tmp_path / "out")
    assert result.returncode != 0
    assert "missing.md" in result.stderr and "no-such-heading" in result.stderr
