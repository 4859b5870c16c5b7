"""The table functions of docs/RESULTS.md (results) and docs/BENCHMARKS.md (benchmarks), written into the
Markdown by analysis/docs_tables.py; a package, not scripts."""
