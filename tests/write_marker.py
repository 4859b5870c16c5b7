"""A campaign ``after`` step for the tests: write ``<run>:<seed>`` to a file, as an evaluation writes its output."""

import sys
from pathlib import Path

run, out, seed = sys.argv[1:4]
if not Path(run, "summary.json").is_file():
    raise SystemExit(f"{run} has not finished")
Path(out).parent.mkdir(parents=True, exist_ok=True)
Path(out).write_text(f"{run}:{seed}")
