"""The import graph of seismag.models: acyclic, with models/config.py as a leaf.

The graph is read from the source (every ``import`` and ``from ... import`` in a
module's AST, function-level ones included), not from ``sys.modules``, so an
import deferred into a function to dodge a cycle still counts as an edge.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import seismag

SEISMAG_ROOT = Path(seismag.__file__).parent


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> source file of every module of ``package`` under ``root``."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join([package, *parts])] = path
    return files


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` (file ``path``) imports, anywhere in it.

    ``from pkg import x`` is an edge to ``pkg.x`` when that is a module, else to ``pkg``;
    relative imports are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    return {target for target in targets if target in known}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    files = module_files(root, package)
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        return list(error.args[1])
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    # All of seismag, so a cycle through a module outside models (models -> io -> models) is seen too.
    return import_graph(SEISMAG_ROOT, "seismag")


def models_modules(graph: dict[str, set[str]]) -> list[str]:
    return sorted(name for name in graph if name == "seismag.models" or name.startswith("seismag.models."))


def test_the_graph_is_read_from_the_source(graph):
    assert {"seismag.models.config", "seismag.models.registry", "seismag.models.base"} <= set(graph)
    assert "seismag.models.checkpoint" in graph["seismag.models.base"]
    assert "seismag.models.config" in graph["seismag.models.registry"]
    assert "seismag.errors" in graph["seismag.models.config"]


def test_no_import_cycle_through_seismag_models(graph):
    reachable, todo = set(), models_modules(graph)
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(graph[name])
    subgraph = {name: graph[name] & reachable for name in reachable}
    cycle = find_cycle(subgraph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_config_is_a_leaf(graph):
    models = set(models_modules(graph))
    assert not graph["seismag.models.config"] & models
    # Nor torch: a config can be read and checked without it.
    tree = ast.parse((SEISMAG_ROOT / "models" / "config.py").read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert "torch" not in {name.split(".")[0] for name in names}


def test_registry_and_checkpoint_do_not_import_base(graph):
    # The direction base.py's docstring promises: config <- registry <- checkpoint <- base.
    for name in ("seismag.models.registry", "seismag.models.checkpoint"):
        assert "seismag.models.base" not in graph[name]
    assert graph["seismag.models.registry"] & set(models_modules(graph)) == {"seismag.models.config"}


def test_outside_the_package_models_import_only_the_core(graph):
    # Models come before training, inference and plots in the flow of data (DESIGN.md).
    core = {"seismag", "seismag.errors", "seismag.io", "seismag.defaults"}  # defaults: a leaf of plain numbers
    models = set(models_modules(graph))
    outside = {name: sorted(graph[name] - models - core) for name in models}
    assert not {name: targets for name, targets in outside.items() if targets}


def test_submodules_do_not_import_the_package(graph):
    # seismag.models/__init__ imports every submodule, so `from seismag.models import x`
    # inside one of them is a cycle; named here so the message says what to change.
    submodules = [name for name in models_modules(graph) if name != "seismag.models"]
    offenders = [name for name in submodules if "seismag.models" in graph[name]]
    assert not offenders


def test_the_walker_sees_function_level_and_relative_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.a import something\n")
    (package / "c.py").write_text("from .b import later\nimport pkg.a\n")
    graph = import_graph(package, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.a", "pkg.b"}}
    assert sorted(find_cycle(graph)[:2]) == ["pkg.a", "pkg.b"]
