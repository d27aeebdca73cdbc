"""The shape of the package: no import cycles, stages import only the stages before them,
torch-free modules stay torch-free, no module over 600 lines, no private name taken from
another module, and every package names its modules and what it may import."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "seismag"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The seismag modules ``name`` imports anywhere in its file (module level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from pkg import sub" imports the submodule when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_the_import_graph_sees_real_edges():
    graph = import_graph()
    assert "seismag.training.fold" in graph["seismag.training.kfold"]
    assert "seismag.runtime" in graph["seismag.training.loop"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


# Stage order along the flow of data: a module may import its own stage and earlier ones.
# config checks model names against the registry, so it comes after models.
STAGES = ["errors", "io", "defaults", "scores", "layout", "lock", "sources", "dataset", "synth", "models", "config", "runtime",
          "environment", "training", "inference", "evaluation", "tune", "plots", "report", "demo", "spec", "cli"]


def stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_stages_import_only_earlier_stages():
    wrong = []
    for name, targets in import_graph().items():
        mine = stage(name)
        if mine not in STAGES:
            continue
        for target in targets:
            theirs = stage(target)
            if theirs in STAGES and STAGES.index(theirs) > STAGES.index(mine):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_plots_import_no_training_or_models_code():
    for name, targets in import_graph().items():
        if stage(name) == "plots":
            assert not {t for t in targets if stage(t) in ("training", "models", "inference", "runtime")}, name


def test_skill_reads_scores_and_imports_no_model_code():
    for name, targets in import_graph().items():
        if name.startswith("seismag.evaluation"):
            assert not {t for t in targets if stage(t) in ("training", "models", "inference", "runtime", "config")}, name


@pytest.mark.parametrize("module", ["seismag", "seismag.config", "seismag.errors", "seismag.io", "seismag.defaults",
                                    "seismag.layout.seed", "seismag.layout.dataset_info", "seismag.layout.results",
                                    "seismag.layout.forecast", "seismag.sources", "seismag.dataset", "seismag.synth",
                                    "seismag.evaluation.skill", "seismag.scores"])
def test_torch_free_modules_do_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


MAX_LINES = 600


def test_no_module_is_longer_than_600_lines():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def private_names_used(source: str, known: set[str]) -> list[str]:
    """Private names (``_x``, not dunders) one module takes from another seismag module: imported by
    name, or read as an attribute of an imported seismag module."""
    found, module_aliases = [], {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("seismag") and alias.asname:
                    module_aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seismag"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{alias.name} from {node.module}")
                elif f"{node.module}.{alias.name}" in known:
                    module_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in module_aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{node.attr} of {module_aliases[node.value.id]}")
    return found


def test_the_private_name_check_sees_both_ways_of_taking_one():
    known = {"seismag.io", "seismag.sources.iaga"}
    source = ("from seismag.sources.iaga import _Segment, read_iaga2002\n"
              "from seismag import io as disk\n"
              "disk._atomic(1)\n"
              "from seismag.sources import iaga\n"
              "iaga.read_iaga2002, iaga.__name__\n")
    assert private_names_used(source, known) == ["_Segment from seismag.sources.iaga", "_atomic of seismag.io"]


def test_no_module_takes_a_private_name_from_another():
    known = set(modules())
    taken = {name: used for name, path in modules().items()
             if (used := private_names_used(path.read_text(encoding="utf-8"), known))}
    assert taken == {}


def test_every_package_names_its_modules_and_what_it_may_import():
    wrong = {}
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent == PACKAGE:
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        members = sorted(p.stem if p.is_file() else p.name for p in init.parent.iterdir()
                         if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
                         or (p.is_dir() and (p / "__init__.py").is_file()))
        missing = [m for m in members if f"``{m}``" not in docstring]
        if "May import:" not in docstring:
            missing.append("a 'May import:' line")
        if missing:
            wrong[module_name(init)] = missing
    assert wrong == {}
