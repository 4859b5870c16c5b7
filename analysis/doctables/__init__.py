"""The table functions of docs/RESULTS.md (one module per study, shared helpers in common) and docs/BENCHMARKS.md
(benchmarks), written into the Markdown by analysis/docs_tables.py; a package, not scripts."""
