"""The README and the documentation pages are tested: every Python block runs, every ``tbfl`` command line
parses with the real parser, ``$ tbfl`` console blocks print what they show, no results table is typed by hand,
links from the README resolve, and the README stays a landing page. (The site's strict build: test_site.py.)"""

from __future__ import annotations

import argparse
import importlib
import contextlib
import io
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tbfl.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
#: Generated pages (``tbfl report``): their numbers are the source, not copies.
GENERATED = (DOCS / "study", DOCS / "study2" / "report.md")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    info: str  # the fence's info string, e.g. "python", "bash", "{include} study/report.md"
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def pages() -> list[Path]:
    """README.md, CHANGELOG.md and every hand-written page under docs/ (generated ones excluded)."""
    found = [REPO / "README.md", REPO / "CHANGELOG.md"]
    for path in sorted(DOCS.rglob("*.md")):
        if any(path.is_relative_to(folder) for folder in GENERATED) or "_build" in path.parts or "generated" in path.parts:
            continue
        found.append(path)
    return found


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order (a fence closes on the same character, at least as long)."""
    found, open_fence = [], None
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        match = _FENCE.match(line)
        if open_fence is None:
            if match:
                open_fence, start, info, body = match["fence"], number, match["info"].strip(), []
        elif match and match["fence"][0] == open_fence[0] and len(match["fence"]) >= len(open_fence) and not match["info"].strip():
            found.append(Block(path, start, info, "\n".join(body) + "\n"))
            open_fence = None
        else:
            body.append(line)
    if open_fence is not None:
        raise AssertionError(f"{path.relative_to(REPO)}:{start}: code fence never closed")
    return found


def prose(path: Path) -> str:
    """The file without its fenced blocks."""
    text = path.read_text(encoding="utf-8")
    for block in blocks(path):
        text = text.replace(block.text, "")
    return text


PAGES = pages()
PYTHON_PAGES = [page for page in PAGES if any(block.info == "python" for block in blocks(page))]


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_the_pages_exist_and_have_blocks():
    names = {_id(page) for page in PAGES}
    assert {"README.md", "docs/losses.md", "docs/evaluation.md", "docs/training.md", "docs/studies.md"} <= names
    assert len(PYTHON_PAGES) >= 4


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=_id)
def test_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    """The blocks of one page run in order in one namespace, in a folder that looks like the repository root (its
    entries linked) so that what a block writes stays out of the checkout."""
    for entry in REPO.iterdir():
        if entry.name != ".git":
            (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for block in blocks(page):
        if block.info == "python":
            try:
                exec(compile(block.text, block.where, "exec"), namespace)
            except Exception as error:  # the block's location, then the error
                raise AssertionError(f"{block.where}: the Python block fails: {type(error).__name__}: {error}") from error


# ---- CLI examples --------------------------------------------------------------------------------------------

_PROGRAM = re.compile(r"^(?:\S*/)?tbfl$")


def _command_lines(block: Block) -> list[tuple[int, list[str]]]:
    """(line, argv after `tbfl`) of each tbfl invocation in a bash block; continuation lines joined, comments cut."""
    found, pending, first = [], "", 0
    for offset, line in enumerate(block.text.splitlines(), start=1):
        if not pending:
            first = offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command, pending = pending + line, ""
        words = shlex.split(command, comments=True)
        for start, word in enumerate(words):
            if _PROGRAM.match(word):
                found.append((block.line + first, words[start + 1 :]))
                break
            if word not in ("srun", "python", "-m") and not word.startswith("."):
                break
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _cli_examples() -> list[tuple[str, list[str]]]:
    return [
        (f"{_id(block.path)}:{line}", argv)
        for page in PAGES
        for block in blocks(page)
        if block.info in ("bash", "sh", "shell")
        for line, argv in _command_lines(block)
    ]


CLI_EXAMPLES = _cli_examples()


def test_there_are_cli_examples_for_every_main_command():
    used = {argv[0] for _, argv in CLI_EXAMPLES if argv}
    assert {"train", "evaluate", "synth", "stats", "check", "sweep", "report", "detect", "tune-postprocess"} <= used


@pytest.mark.parametrize("where, argv", CLI_EXAMPLES, ids=[where for where, _ in CLI_EXAMPLES])
def test_cli_examples_parse(where, argv):
    """The sub-command exists, every flag is one of its options, and the real parser accepts the line."""
    commands = _subparsers(build_parser())
    assert argv and argv[0] in commands, f"{where}: unknown sub-command {argv[:1]} (known: {sorted(commands)})"
    options = {option for action in commands[argv[0]]._actions for option in action.option_strings}
    unknown = [word.split("=")[0] for word in argv[1:] if word.startswith("--") and word.split("=")[0] not in options]
    assert not unknown, f"{where}: tbfl {argv[0]} has no option {unknown}"
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit:
            raise AssertionError(f"{where}: `tbfl {shlex.join(argv)}` does not parse: {stderr.getvalue().strip()}") from exit


def test_a_wrong_flag_in_an_example_is_caught():
    commands = _subparsers(build_parser())
    options = {option for action in commands["train"]._actions for option in action.option_strings}
    assert "--config" in options and "--configs" not in options
    (line,) = _command_lines(Block(REPO / "x.md", 1, "bash", "tbfl train --configs cpu-small \\\n    --out runs/x  # note\n"))
    assert line == (2, ["train", "--configs", "cpu-small", "--out", "runs/x"])


# ---- console blocks: `$ tbfl ...` and its output -------------------------------------------------------------

CONSOLE_BLOCKS = [block for page in PAGES for block in blocks(page) if block.info == "console" and block.text.startswith("$ tbfl ")]


@pytest.mark.parametrize("block", CONSOLE_BLOCKS, ids=[block.where for block in CONSOLE_BLOCKS])
def test_console_blocks_print_what_they_show(block, capsys):
    command, _, shown = block.text.partition("\n")
    argv = shlex.split(command[len("$ tbfl ") :], comments=True)
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().out == shown, f"{block.where}: the output of `tbfl {shlex.join(argv)}` differs from the page"


# ---- one place per number ----------------------------------------------------------------------------------

_MEAN_STD = re.compile(r"\d\.\d{3} ± \d\.\d{3}")
_INTERVAL = re.compile(r"[−+-]?\d\.\d{3} \[[−+-]\d\.\d{3}, [−+-]\d\.\d{3}\]")


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_no_hand_typed_results(page):
    """Results (mean ± std, differences with intervals) come from the generated report: included or linked."""
    text = page.read_text(encoding="utf-8")
    found = _MEAN_STD.findall(text) + _INTERVAL.findall(text)
    assert not found, f"{_id(page)}: results typed by hand {found[:3]}: include them from docs/study/report.md or link it"


def test_the_results_check_would_catch_a_copied_row():
    row = "| bce | 5 | 0.497 ± 0.029 | -0.019 [-0.080, +0.042] |"
    assert _MEAN_STD.search(row) and _INTERVAL.search(row)


def test_included_sections_exist_in_the_generated_report():
    """Every `{include}` names a file that exists and markers found in it (Sphinx would only warn on the file)."""
    includes = [block for page in PAGES for block in blocks(page) if block.info.startswith("{include}")]
    assert includes
    for block in includes:
        target = (block.path.parent / block.info.split(maxsplit=1)[1]).resolve()
        assert target.is_file(), f"{block.where}: {target} not found"
        content = target.read_text(encoding="utf-8")
        for option in re.findall(r"^:(?:start-after|end-before): (.*)$", block.text, flags=re.M):
            marker = option.strip().strip('"')
            assert marker in content, f"{block.where}: {marker!r} not in {target.name}"


# ---- the README -------------------------------------------------------------------------------------------

def test_readme_is_a_landing_page():
    readme = REPO / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move reference material to docs/"
    text = readme.read_text(encoding="utf-8")
    for needed in ("make demo", "make test", "tbfl train", "tbfl evaluate", "docs/study/report.md", "## Citation", "## Status"):
        assert needed in text, needed


_LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


@pytest.mark.parametrize("page", [REPO / "README.md", REPO / "CHANGELOG.md"], ids=_id)
def test_links_outside_the_site_resolve(page):
    """README and CHANGELOG are not pages of the site: their relative links are checked here."""
    for target, _ in _LINK.findall(prose(page)):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{_id(page)}: link to {target}, which does not exist"


# ---- names and files the prose refers to -----------------------------------------------------------------

_DOTTED = re.compile(r"`(tbfl(?:\.[A-Za-z_]\w*)+)")
_REPO_PATH = re.compile(r"`((?:src|tests|benchmarks|scripts|configs|docs|tbfl|csrc)/[\w./-]+\.(?:py|yaml|md|sh|csv|json|sha256|png|cpp|h))`")


def _repo_path(path: str) -> Path:
    """A path as the pages write it: from the repository root, or from the package (`tbfl/...`, `csrc/...`)."""
    return REPO / "src" / path if path.startswith("tbfl/") else REPO / "src" / "tbfl" / path if path.startswith("csrc/") else REPO / path


#: Files a script in scripts/ names as what it writes (a study's archive before its first run): they may not exist yet.
_SCRIPT_OUTPUTS = {path for script in (REPO / "scripts").glob("*.sh") for path in re.findall(r"docs/[\w./-]+", script.read_text(encoding="utf-8"))}


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                target = getattr(target, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_names_and_files_in_the_prose_exist(page):
    """`tbfl.x.y` names import (module, class, function or attribute) and `tests/...`-style paths exist, so a module
    that moves or a file that goes cannot leave a stale reference behind."""
    text = page.read_text(encoding="utf-8")
    stale = [name for name in sorted(set(_DOTTED.findall(text))) if not _resolves(name)]
    stale += [path for path in sorted(set(_REPO_PATH.findall(text))) if "*" not in path and not _repo_path(path).exists() and path not in _SCRIPT_OUTPUTS]
    assert not stale, f"{_id(page)}: refers to what does not exist: {stale}"


def test_the_reference_check_can_fail():
    assert _resolves("tbfl.losses.TimeBalancedFocalLoss") and _resolves("tbfl.evaluation")
    assert not _resolves("tbfl.losses.NoSuchLoss") and not _resolves("tbfl.no_such_module")
    assert _repo_path("csrc/glu.h").is_file() and _repo_path("tbfl/weights.py").is_file()
    assert _REPO_PATH.findall("see `tests/no/such_test.py`") == ["tests/no/such_test.py"]
