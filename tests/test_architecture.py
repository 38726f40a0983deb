"""The import graph of src/tbfl: no circle, and no import from a lower layer into a higher one (docs/architecture.md).

Every ``import`` and ``from ... import`` is read from the source with ``ast``, including those inside
functions and under ``TYPE_CHECKING``, so an import placed inside a function cannot hide a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "tbfl"

#: Layers, lowest first; a module may import its own layer's modules and those of lower layers.
#: Layers of one rank are siblings and may not import each other.
LAYERS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (0, "utilities", ("tbfl.constants", "tbfl.io", "tbfl.recipes")),
    (1, "losses and weights", ("tbfl.losses", "tbfl.weights")),
    (2, "data", ("tbfl.data",)),
    (3, "synth", ("tbfl.synth",)),
    (3, "features", ("tbfl.features",)),
    (3, "evaluation", ("tbfl.evaluation",)),
    (3, "model", ("tbfl.model", "tbfl.cpu_kernels", "tbfl.fused_glu", "tbfl.fused_gru")),
    (4, "run folder", ("tbfl.run_folder",)),
    (5, "training", ("tbfl.training",)),
    (6, "inference", ("tbfl.inference",)),
    (7, "experiments", ("tbfl.experiments",)),
    (8, "cli", ("tbfl.cli", "tbfl.__main__", "tbfl")),
)


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at ``src`` (packages by their ``__init__``)."""
    modules = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported module of ``modules``: line of the first such import}, every import statement counted.

    ``from package import name`` counts as an import of ``package.name`` when that is a module, else of ``package``.
    """
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            for target in targets:
                while target and target not in modules:  # `import tbfl.data.stats` names the module; a deeper name its module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.setdefault(target, node.lineno)
        graph[name] = found
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> tuple[int, str]:
    """(rank, name) of the layer of a module: the layer whose prefix matches most specifically (``tbfl`` itself only exactly)."""
    best = None
    for rank, name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or (prefix != "tbfl" and module.startswith(prefix + "."))) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, name)
    if best is None:
        raise ValueError(f"{module}: in no layer of tests/test_architecture.py; add it to LAYERS")
    return best[1], best[2]


def upward_imports(graph: dict[str, dict[str, int]], modules: dict[str, Path]) -> list[str]:
    """``file:line: a (layer) imports b (layer)`` for each import that is not from the same or a lower layer."""
    wrong = []
    for source, targets in sorted(graph.items()):
        rank, layer = layer_of(source)
        for target, line in sorted(targets.items()):
            target_rank, target_layer = layer_of(target)
            if target_layer != layer and target_rank >= rank:
                wrong.append(f"{modules[source]}:{line}: {source} ({layer}) imports {target} ({target_layer})")
    return wrong


def test_src_tbfl_has_no_import_circle():
    modules = module_files()
    assert circles(import_graph(modules)) == []


def test_no_layer_imports_a_higher_or_sibling_layer():
    modules = module_files()
    assert upward_imports(import_graph(modules), modules) == []


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "tbfl" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "tbfl"


def test_the_check_finds_a_circle_hidden_inside_a_function(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/audit.py": "from tbfl.data.stats import volumes\n",
        "data/stats.py": "def volumes():\n    from tbfl.data import audit  # hidden\n    return audit\n",
        "data/labels.py": "from . import stats\n",
    })
    graph = import_graph(module_files(src))
    assert graph["tbfl.data.stats"] == {"tbfl.data.audit": 2} and graph["tbfl.data.labels"] == {"tbfl.data.stats": 1}
    assert circles(graph) == [["tbfl.data.audit", "tbfl.data.stats"]]


def test_the_check_finds_an_upward_and_a_sibling_import(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/stats.py": "import typing\nif typing.TYPE_CHECKING:\n    from tbfl.training.loss import LossConfig\n",
        "evaluation/__init__.py": "",
        "evaluation/scores.py": "from tbfl.features import FeatureConfig\nfrom tbfl.data import stats\n",
        "features.py": "",
        "training/__init__.py": "",
        "training/loss.py": "from tbfl.data.stats import x\n",
    })
    modules = module_files(src)
    found = upward_imports(import_graph(modules), modules)
    assert [line.split(": ", 1)[1] for line in found] == [
        "tbfl.data.stats (data) imports tbfl.training.loss (training)",
        "tbfl.evaluation.scores (evaluation) imports tbfl.features (features)",
    ]
    assert found[0].startswith(f"{modules['tbfl.data.stats']}:3:")
    with pytest.raises(ValueError, match="tbfl.nowhere"):
        layer_of("tbfl.nowhere")
