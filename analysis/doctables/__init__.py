"""The tables no single study owns: the claims table that opens docs/RESULTS.md (claims), the helpers every study's
tables share (common) and docs/BENCHMARKS.md's (benchmarks, utilization). A study's own tables live in its folder,
``studies/<name>/tables.py``; analysis/docs_tables.py collects both. A package, not scripts."""

import sys
from pathlib import Path

_REPOSITORY = str(Path(__file__).resolve().parents[2])
if _REPOSITORY not in sys.path:  # the studies' table modules are imported as ``studies.<name>.tables``
    sys.path.insert(0, _REPOSITORY)
