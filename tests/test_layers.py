"""The packages' layering, as docs/EXTENDING.md states it: environments know nothing of models, the scorer nothing
of environments, agents nothing of algorithms, algorithms nothing of training (Lightning, checkpoints). Import
circles between modules, of any length: tests/test_house_limits.py."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "twosome"

# Which other twosome packages each package may import (training, evaluation and bench compose everything).
ALLOWED = {
    "envs": {"fileio"},  # a generated game (TextWorld) is compiled once, under a lock other processes wait on
    "scoring": set(),
    "fileio": set(),
    "run_dir": set(),
    "policy_settings": set(),  # reads the agents' source, never imports it
    "parallel": set(),
    "console": set(),  # library notes quieted where a Trainer is built
    "lm": {"fileio", "console"},
    # lm: the model directory and wheel checks (model_dir, packaged: no torch)
    "checked": set(),  # settings that check themselves (config and rl.settings build on it)
    "config": {"checked", "envs", "scoring", "lm", "rl", "run_dir", "policy_settings"},  # rl: its settings only
    "agents": {"scoring", "parallel", "run_dir"},  # run_dir: the names of the files an agent saves
    "rl": {"agents", "checked", "parallel"},
    "retention": {"fileio", "lm", "config", "run_dir"},  # config: a run's config.yaml as the runs read it
}


def imported_packages(package: str) -> set[str]:
    files = [SRC / f"{package}.py"] if (SRC / f"{package}.py").exists() else list((SRC / package).rglob("*.py"))
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found |= {n.split(".")[1] for n in names if n.startswith("twosome.") and n.count(".") >= 1}
    return found - {package}


def test_each_package_imports_only_the_layers_below_it():
    wrong = {pkg: sorted(imported_packages(pkg) - allowed) for pkg, allowed in ALLOWED.items()}
    assert {pkg: deps for pkg, deps in wrong.items() if deps} == {}


def test_a_seed_group_shares_the_run_lifecycle_instead_of_reaching_into_the_single_run():
    """training/seed_group.py once called eight helpers of training/train.py; both now use training/lifecycle.py."""
    tree = ast.parse((SRC / "training" / "seed_group.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names = {
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "twosome.training"
        for a in n.names
    }
    assert "twosome.training.train" not in modules and "train" not in names


def test_the_campaign_driver_writes_its_statuses_without_importing_lightning():
    """A campaign only starts runs and reads their files: importing its verbs must not pull in Lightning (it did,
    through the checkpoint module, to write a status)."""
    import subprocess
    import sys

    root = SRC.parents[1]
    probe = (
        "import sys; sys.path[:0] = ['experiments']; import campaign, campaign_local; "
        "print(sorted(m for m in sys.modules if 'lightning' in m))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout[:300]
