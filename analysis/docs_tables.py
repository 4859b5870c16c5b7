"""Write every table of measured numbers in the documents from the raw data committed beside them (never typed).

    python analysis/docs_tables.py            # regenerate the tables of docs/ and of every studies/<name>/README.md
    python analysis/docs_tables.py --check    # exit 1, naming each table that differs from its data (CI's test)

A generated table sits between markers in the Markdown, named after a function registered here:

    <!-- table: ten_seeds_tomato_salad -->
    ... (this script's output; edits here are overwritten)
    <!-- /table -->

Every other Markdown table in those documents must say "raw data not kept" in its own rows or header (a number
whose data is lost stays visible as such), or sit between ``<!-- table: typed -->`` and ``<!-- /table -->``: a
table of settings or definitions, or a claims table whose numbers are quoted from the generated tables beside it
(its statuses are judgements, which no function writes). ``--check`` fails on an unmarked table too, and on an
interval quoted in the prose or a typed table (``0.75 [0.58, 0.92]``, ``16/26 [0.43, 0.78]``) that no generated
table of the same document gives: prose quotes the tables as they are, so new data that moves a number makes its
quote fail until it is mended.
A study's tables live in its folder (``studies/<name>/tables.py``, and any other module there that defines
``TABLES``) and fill its write-up, ``studies/<name>/README.md``; the tables no study owns (the claims table of
docs/RESULTS.md, docs/BENCHMARKS.md's) live in the package ``doctables``, with the helpers all of them share in
``doctables/common.py``. Each function takes the repository root and returns Markdown; every module that defines
``TABLES`` registers its tables there, and ``registry()`` collects them all.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doctables  # noqa: E402

from twosome.fileio import damaged_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "studies"
DOCS = ("docs/RESULTS.md", "docs/BENCHMARKS.md", "docs/LOG.md")  # and every study's README.md: documents()
TYPED = "typed"
NOT_KEPT = "raw data not kept"
BLOCK = re.compile(r"(<!-- table: ([\w-]+) -->\n)(.*?)(<!-- /table -->)", re.S)


def study_names(root: Path = ROOT) -> list[str]:
    """The studies: the folders of studies/ with a write-up."""
    return sorted(p.parent.name for p in (root / "studies").glob("*/README.md"))


def documents(root: Path = ROOT) -> list[str]:
    """The documents with generated tables: docs/'s, then each study's write-up."""
    return [*DOCS, *(f"studies/{name}/README.md" for name in study_names(root))]


def table_modules() -> list[ModuleType]:
    """Every module that defines ``TABLES``: the package ``doctables``'s, then each study's, in the order of names."""
    names = [f"doctables.{m.name}" for m in sorted(pkgutil.iter_modules(doctables.__path__), key=lambda m: m.name)]
    for study in study_names():
        names += [f"studies.{study}.{m.name}" for m in sorted(pkgutil.iter_modules([str(STUDIES / study)]),
                                                                key=lambda m: m.name)]  # fmt: skip
    modules = [importlib.import_module(name) for name in names]
    return [module for module in modules if hasattr(module, "TABLES")]


def registry() -> dict[str, Callable[[Path], str]]:
    tables: dict[str, Callable[[Path], str]] = {}
    for module in table_modules():
        clash = sorted(set(tables) & set(module.TABLES))
        if clash:
            raise RuntimeError(f"table names registered twice: {clash} (again in {module.__name__})")
        tables.update(module.TABLES)
    return tables


def render(text: str, root: Path, tables: dict[str, Callable[[Path], str]]) -> tuple[str, list[str]]:
    """``text`` with every generated block rewritten; the names of blocks that changed."""
    changed: list[str] = []

    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name == TYPED:
            return match.group(0)
        if name not in tables:
            raise KeyError(f"<!-- table: {name} --> names no registered table; registered: {sorted(tables)}")
        try:
            body = tables[name](root).rstrip("\n") + "\n"
        except Exception as err:  # a damaged data file: name it, not only the table
            raise DamagedData(f"table {name!r} could not be made ({type(err).__name__}: {err})", root) from err
        if body != match.group(3):
            changed.append(name)
        return f"{match.group(1)}{body}{match.group(4)}"

    return BLOCK.sub(fill, text), changed


class DamagedData(SystemExit):
    """A table or figure could not be made: says which, and which data files under docs/ do not parse."""

    def __init__(self, what: str, root: Path):
        damaged = damaged_files([root / "docs", root / "studies"])
        found = "; every data file under docs/ and studies/ parses"
        if damaged:
            found = "; damaged data files:\n  " + "\n  ".join(damaged)
        super().__init__(what + found)


def unmarked_tables(text: str) -> list[int]:
    """Line numbers of Markdown tables outside every block that do not say "raw data not kept"."""
    spans = [(m.start(), m.end()) for m in BLOCK.finditer(text)]
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    out = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|\s*$", lines[i + 1]):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            inside = any(a <= offsets[i] < b for a, b in spans)
            if not inside and NOT_KEPT not in "\n".join(lines[i:j]):
                out.append(i + 1)
            i = j
        else:
            i += 1
    return out


_NUMBER = r"-?\d+(?:\.\d+)?%?"
ESTIMATE = re.compile(
    rf"(?<![\w./])(?:(?P<count>\d+/\d+)(?: = | )?)?(?P<point>{_NUMBER})? ?\[(?P<low>{_NUMBER}), (?P<high>{_NUMBER})\]"
)


def _estimate_keys(match: re.Match) -> set[tuple[str, str, str]]:
    """What names an estimate: its interval beside its point, and beside its count (``16/26 = 0.62 [0.43, 0.78]``
    is quoted as ``16/26 [0.43, 0.78]`` or ``0.62 [0.43, 0.78]``)."""
    interval = (match["low"], match["high"])
    return {(lead, *interval) for lead in (match["count"], match["point"]) if lead is not None}


def generated_estimates(text: str) -> set[tuple[str, str, str]]:
    """What the generated tables of a document give, as ``_estimate_keys`` names it."""
    generated = set()
    for block in BLOCK.finditer(text):
        if block[2] != TYPED:
            for match in ESTIMATE.finditer(block[3]):
                generated |= _estimate_keys(match)
    return generated


def unquoted_estimates(text: str, results: str = "") -> list[tuple[int, str]]:
    """(line, estimate) for every interval quoted outside the generated tables (prose, typed claims tables) that no
    generated table of the same document gives, nor one of ``results`` (for a study's write-up: docs/RESULTS.md and
    every study's, one body of results a study may quote): a stale quote, or a number typed from nowhere. An
    interval with neither a point nor a count before it (``Wilson interval [0.07, 0.59]``) is not checked."""
    generated = generated_estimates(text) | generated_estimates(results)
    # The generated blocks blanked line for line, so that a match's line is its line in the document
    outside = BLOCK.sub(lambda b: b[0] if b[2] == TYPED else "\n" * b[0].count("\n"), text)
    return [
        (outside.count("\n", 0, match.start()) + 1, match[0].strip())
        for match in ESTIMATE.finditer(outside)
        if not _estimate_keys(match) <= generated
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a table differs from its data")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    tables = registry()
    problems = []
    rendered = {doc: render((args.root / doc).read_text(), args.root, tables) for doc in documents(args.root)}
    results = "\n".join(new for doc, (new, _) in rendered.items() if doc == DOCS[0] or doc.startswith("studies/"))
    for doc, (new, changed) in rendered.items():
        path = args.root / doc
        problems += [f"{doc}: table {name!r} differs from its data" for name in changed]
        problems += [
            f"{doc}:{line}: a table neither generated nor marked '{NOT_KEPT}'" for line in unmarked_tables(new)
        ]
        problems += [
            f"{doc}:{line}: {quote} is quoted, and no generated table of {doc}"
            + (" nor of the other results" if doc.startswith("studies/") else "")
            + " gives it: quote the table as it is now"
            for line, quote in unquoted_estimates(new, results if doc.startswith("studies/") else "")
        ]
        if changed and not args.check:
            tmp = path.with_suffix(".md.tmp")
            tmp.write_text(new)
            tmp.replace(path)
            print(f"{doc}: rewrote {', '.join(changed)}")
    if args.check and problems:
        print("\n".join(problems))
        if any("differs from its data" in p for p in problems):
            print("regenerate with: python analysis/docs_tables.py")
        return 1
    if problems and not args.check:  # a stale quote is for the author to mend; the tables are written regardless
        print("\n".join(p for p in problems if "differs from its data" not in p))
    return 1 if any("neither generated" in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
