"""The index of docs/RESULTS.md: one row per study folder (studies/<name>/), its question and title from its
write-up, and its status counted from its plans and its data: how many of the runs its plans ask for are archived."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml

from doctables.common import table

QUESTION = re.compile(r"^\*\*Question\.\*\* (.+)$", re.M)


def _planned_runs(sweep: dict) -> int:
    """A sweep's runs: its seeds times every comma list of its overrides (as campaign.py counts its jobs)."""
    runs = len(sweep["seeds"])
    for override in sweep["overrides"]:
        key, _, value = str(override).partition("=")
        if value and not key.startswith("hydra"):
            runs *= len(value.split(","))
    return runs


def _archived(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*/summary.json")) if folder.is_dir() else 0


def study_status(study: Path) -> str:
    """ "complete" once every archive its plans name holds the runs planned for it; else how far it is."""
    planned: dict[str, int] = defaultdict(int)
    for plan in sorted(study.glob("plan*.yaml")):
        for sweep in yaml.safe_load(plan.read_text())["sweeps"]:
            planned[sweep["archive"]] += _planned_runs(sweep)
    if not planned:
        runs = sum(1 for _ in (study / "data").rglob("summary.json"))
        return f"{runs} runs archived (made by a script, no plan)"
    have = sum(min(_archived(study / "data" / archive), n) for archive, n in planned.items())
    want = sum(planned.values())
    if have == want:
        return "complete"
    return f"{'plan not run yet' if have == 0 else 'in progress'}: {have} of {want} planned runs archived"


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
