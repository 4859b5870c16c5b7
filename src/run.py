"""Train an agent: `python src/run.py [group=choice ...] [key=value ...]`, or sweep with `-m`.

Examples:
    python src/run.py                                        # TWOSOME, word norm, Tomato Salad, tiny LM
    python src/run.py -m env=overcooked norm=word,token seed=0,1,2
    python src/run.py env.task=tomato_lettuce_salad rollout.total_env_steps=20000
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TWOSOME_ROOT", str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

import twosome  # noqa: E402,F401  (registers the config's resolvers; light: torch is imported after composition)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig):
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from twosome.config import ConfigError, ValidateBeforeWriting
    from twosome.fileio import DirectoryInUse
    from twosome.training.run_state import DamagedCheckpoint
    from twosome.training.stopping import Preempted
    from twosome.training.sweep_summary import Refused
    from twosome.training.train import train  # torch, Lightning, transformers: only once the config is valid

    try:
        summary = train(cfg, run=ValidateBeforeWriting.parsed_for(cfg))  # validated once, before writing
    except (Preempted, DirectoryInUse, ConfigError, DamagedCheckpoint) as stop:  # not a crash: the message says
        if HydraConfig.get().mode != RunMode.RUN:  # what happened and how to go on
            if isinstance(stop, Preempted):
                raise  # a sweep's launcher and its summary act on the job's result (its signal)
            return Refused(stop)  # a refused sweep job: its one line (the sweep's summary), not a traceback
        if not isinstance(stop, Preempted | DirectoryInUse):
            raise
        if isinstance(stop, DirectoryInUse):  # a stop signal's message was printed as the run stopped
            print(f"Error: {stop}", file=sys.stderr)
        raise SystemExit(1) from None
    return summary.get("eval/episodic_return", float("nan"))


if __name__ == "__main__":
    main()
