"""The house limits a reviewer would otherwise count by hand: no Python file over 600 lines (one concept per module
stays readable), a README a newcomer reads in one sitting, and no import circle among the twosome modules, of any
length (a circle makes the order of imports matter and the layers of tests/test_layers.py meaningless)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "twosome"

MAX_LINES = 600
README_MAX_LINES = 150
CODE_DIRS = ("src", "analysis", "experiments", "tests", "studies")
GENERATED = {"artifacts", "multirun", "runs", "outputs", "__pycache__"}  # written by runs, never code


def python_files() -> list[Path]:
    files = []
    for top in CODE_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if not any(p.startswith(".") or p in GENERATED for p in parts):
                files.append(path)
    return files


def test_no_python_file_is_over_600_lines():
    counts = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in python_files()}
    assert len(counts) > 100, "the scan found too few files: the repository layout changed"
    over = {name: n for name, n in counts.items() if n > MAX_LINES}
    assert not over, f"over {MAX_LINES} lines (split by concept): " + ", ".join(f"{k} ({v})" for k, v in over.items())


def test_the_readme_is_under_150_lines():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines (under {README_MAX_LINES}): move detail to docs/"


def module_imports() -> dict[str, set[str]]:
    """Each twosome module's imports of other twosome modules, wherever in the module they stand (a function's lazy
    import closes a circle as surely as a top-level one); ``from a import b`` is module ``a.b`` where that is a
    module, else ``a``, and a package's name means its ``__init__``."""
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in modules:
                        found.add(f"{node.module}.{alias.name}")
                    elif node.module in modules:
                        found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
        graph[name] = found - {name}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that reach each other (Tarjan's strongly connected components),
    as the modules in import order, the first repeated at the end."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # recursion depth: the longest import chain, a few dozen
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [circle_in(graph, group) for group in groups]


def circle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest circle from the group's first module back to it, inside the group (breadth first)."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    following.append(w)
        frontier = following
    raise AssertionError(f"no circle in {sorted(group)}")


def test_no_import_circle_among_the_twosome_modules():
    """Of any length: the scorer and its kernels once imported each other (the kernels called back into the scorer
    to pad), and a longer circle is as easy to close without noticing."""
    circles = import_circles(module_imports())
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_circle_check_finds_a_circle_of_three_and_names_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": set()}
    assert import_circles(graph) == [["a", "b", "c", "a"]]
    assert import_circles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    imports = module_imports()  # module-level edges, a lazy import's among them
    assert {"twosome.training.stopping", "twosome.training.lifecycle"} <= imports["twosome.training.train"]
    assert "twosome.training.stopping" in imports["twosome.training.build"]  # imported inside build_trainer
