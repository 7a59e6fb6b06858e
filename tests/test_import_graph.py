"""The package's layering, read from the source with `ast`: no import cycle between subpackages.

A node is a subpackage of `alignnet` (`data`, `pose`, ...) or a top-level module
(`keypoints`, `metrics`, ...); an edge A -> B is any import of B in a module of A,
at module level or inside a function (a lazy import still couples the two). The
CLI imports its commands by name (importlib), so it has no edges here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "alignnet"


def module_name(path: Path, package: Path) -> str:
    """`alignnet.data.clean` for alignnet/data/clean.py, `alignnet.data` for alignnet/data/__init__.py."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def node_of(module: str) -> str | None:
    """The graph node of a module `alignnet.X[.Y...]`: X; None outside the package or for the package itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "alignnet" and len(parts) > 1 else None


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module an `import` or `from ... import` in the file names (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            else:
                assert node.module is not None
                names.add(node.module)
                # `from alignnet import keypoints` imports the module alignnet.keypoints.
                names.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "alignnet")
    return names


def import_graph(package: Path) -> tuple[nx.DiGraph, dict[tuple[str, str], set[str]]]:
    """The node graph of `package` and, per edge, the modules that make it."""
    nodes = {p.stem for p in package.glob("*.py")} | {p.parent.name for p in package.glob("*/__init__.py")}
    nodes -= {"__init__", "__main__"}
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    culprits: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        source = node_of(module)
        if source not in nodes:
            continue
        for name in imported_modules(path, module):
            target = node_of(name)
            if target in nodes and target != source:
                graph.add_edge(source, target)
                culprits[source, target].add(module)
    return graph, culprits


@pytest.fixture(scope="module")
def graph() -> tuple[nx.DiGraph, dict[tuple[str, str], set[str]]]:
    return import_graph(PACKAGE)


def test_the_graph_sees_the_packages_imports(graph):
    g, culprits = graph
    assert {"data", "pose", "models", "training", "demo", "keypoints"} <= set(g.nodes)
    assert g.has_edge("data", "pose") and g.has_edge("training", "models")
    assert "alignnet.pose.mediapipe_backend" in culprits["pose", "keypoints"]


def test_no_import_cycle_between_subpackages(graph):
    g, culprits = graph
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    detail = "; ".join(
        f"{a} -> {b} ({', '.join(sorted(culprits[a, b]))})"
        for cycle in cycles
        for a in cycle
        for b in cycle
        if g.has_edge(a, b)
    )
    assert not cycles, f"import cycles {cycles}: {detail}"


def test_nothing_outside_the_demo_imports_it(graph):
    g, culprits = graph
    users = {a: sorted(culprits[a, "demo"]) for a in g.predecessors("demo")}
    assert not users, f"the pipeline must not depend on the demo generators: {users}"


def test_relative_imports_resolve(tmp_path):
    """The reader itself: absolute, relative and lazy imports, `from alignnet import module`."""
    package = tmp_path / "alignnet"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a" / "__init__.py").write_text("from .x import f\n")
    (package / "a" / "x.py").write_text("from ..b import g\n\ndef f():\n    from alignnet.c import h\n")
    (package / "b.py").write_text("from alignnet import a\n")
    (package / "c.py").write_text("")
    g, _ = import_graph(package)
    assert set(g.edges) == {("a", "b"), ("a", "c"), ("b", "a")}
    assert [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1] == [["a", "b"]]


def test_the_model_imports_no_data_generation_or_file_io(graph):
    """The model sees keypoint layouts and its input features; sample drawing, I/O and training stay outside."""
    g, culprits = graph
    extra = set(g.successors("models")) - {"keypoints", "motion_features"}
    assert not extra, f"models imports { ({b: sorted(culprits['models', b]) for b in extra}) }"
