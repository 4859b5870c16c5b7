"""The index of docs/RESULTS.md: one row per study folder (studies/<name>/), its question and title from its
write-up, and its status counted from its plans and its data: how many of the runs its plans ask for are archived."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from doctables.common import table
from experiments.campaign_plan import load_plan

QUESTION = re.compile(r"^\*\*Question\.\*\* (.+)$", re.M)


def _archived(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*/summary.json")) if folder.is_dir() else 0


def study_status(study: Path) -> str:
    """ "complete" once every archive its plans name holds the runs planned for it, else how far it is; runs its
    data holds outside those archives (made by a script, or by an earlier study) are counted beside."""
    planned: dict[str, int] = defaultdict(int)
    for path in sorted(study.glob("plan*.yaml")):
        for sweep in load_plan(path).sweeps:
            planned[sweep.archive] += sweep.runs  # as the campaign counts its jobs
    every = sum(1 for _ in (study / "data").rglob("summary.json"))
    if not planned:
        return f"{every} runs archived (made by a script, no plan)"
    have = sum(min(_archived(study / "data" / archive), n) for archive, n in planned.items())
    want = sum(planned.values())
    outside = every - sum(_archived(study / "data" / archive) for archive in planned)
    beside = f"; {outside} more run{'s' * (outside != 1)} archived outside its plans" if outside else ""
    if have == want:
        return "complete" + beside
    return f"{'plan not run yet' if have == 0 else 'in progress'}: {have} of {want} planned runs archived{beside}"


def studies_index(root: Path) -> str:
    rows = []
    for readme in sorted((root / "studies").glob("*/README.md")):
        text = readme.read_text()
        title = re.search(r"^# (.+)$", text, re.M)
        question = QUESTION.search(text)
        study = readme.parent
        rows.append([
            f"[{title[1] if title else study.name}](../studies/{study.name}/README.md)",
            question[1] if question else "",
            study_status(study),
        ])  # fmt: skip
    return table(["study (its folder: plan, data, tables, write-up)", "question", "status"], rows)


TABLES = {"studies_index": studies_index}
