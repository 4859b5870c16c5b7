"""The 10-seed studies beyond the paper's comparison (which is ``compare.py --profile ten_seeds``):

    python experiments/studies.py poad          # POAD vs TWOSOME's PPO vs PPO on POAD's trie policy, 2 tasks
    python experiments/studies.py prior         # pretrained vs random-init default model, lr picked per model
    python experiments/studies.py tls_long      # Tomato-Lettuce Salad at 200k steps, 5 seeds
    python experiments/studies.py lora_check    # SmolLM2 TWOSOME with LoRA on all / top 15 / top 8 blocks, 5 seeds
    python experiments/studies.py lora_check --arm all   # one arm (two processes can share the study)
    python experiments/studies.py word_token    # SmolLM2 TWOSOME word vs token, 2 VirtualHome tasks, 5 seeds
    python experiments/studies.py word_token --arm token  # one normalization (two processes can share the study)
    python experiments/studies.py misalignment  # tiny model and SmolLM2 writing their actions, 5 tasks, zero-shot
    python experiments/studies.py wording       # TWOSOME trained on the canonical wording vs a random paraphrase
    python experiments/studies.py generate_rl   # the tiny model writing its actions, trained by reward, 5 seeds
    python experiments/studies.py gigpo         # GiGPO (no critic) on the POAD study's tasks, 10 seeds
    python experiments/studies.py poad --dry-run                 # print the commands
    python experiments/studies.py poad --task food_preparation   # one task (two processes can share the study)
    python experiments/studies.py prior -- trainer.num_threads=1  # arguments after -- go to every run

Each study is Hydra multiruns of ``src/run.py`` into ``multirun/<study>/...``; every trained run ends with 100
sampled evaluation episodes. Rerunning continues a study: finished runs are kept, interrupted ones resume. When a
study's runs are done, their raw data is copied into ``docs/data/<study>/`` (analysis/archive_runs.py), where the
tables of docs/RESULTS.md are made from; ``--dry-run`` says where. A try-out with arguments after ``--`` that change
what runs (a smaller budget, say) is not archived: its runs stay in ``multirun/``, and the committed data is never
replaced by it. Only settings of where and how a study runs (threads, checkpoints, loggers, launcher) keep it archived.

``prior`` is a fair comparison of pretrained and random-init weights: each model gets the policy learning rate
that serves it best on three pick seeds (100-102, never the reported ones), by mean sampled success, then 10 seeds
at that rate. The pick is printed and kept in ``multirun/prior/pick.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from compare import run_sweep, split_passthrough  # experiments/ (this script's directory) is on sys.path

from twosome.run_dir import SUMMARY, RunDir

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ",".join(str(s) for s in range(10))
FINAL = "eval.final_sampled_episodes=100"
TASKS = {
    "tomato_salad": ["env=overcooked", "env.task=tomato_salad", "rollout.total_env_steps=16384"],
    "food_preparation": ["env=virtualhome", "env.task=food_preparation", "rollout.total_env_steps=8192"],
}
# Each model's grid of policy learning rates for the pick. Random init picked 1e-3, the low edge of the first grid,
# so its grid extends downward until its best rate is bracketed.
LEARNING_RATES = {"tiny": ("1e-3", "3e-3", "1e-2"), "tiny_random": ("1e-4", "3e-4", "1e-3", "3e-3", "1e-2")}
PICK_SEEDS = "100,101,102"
MODELS = ("tiny", "tiny_random")


def run(overrides: list[str], sweep_dir: str, extra: list[str], final: str = FINAL) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "src" / "run.py"),
        "-m",
        *overrides,
        final,
        f"hydra.sweep.dir={sweep_dir}",
        *extra,
    ]


def poad(extra: list[str], tasks: list[str] | None = None) -> list[tuple[list[str], str]]:
    """(command, archive directory) pairs: the three algorithm/policy arms on each task (both by default)."""
    out = []
    for task, overrides in TASKS.items():
        if tasks and task not in tasks:
            continue
        arms = {"ppo_word": ["algo=ppo"], "poad_trie": ["algo=poad"], "ppo_trie": ["algo=ppo", "norm=trie"]}
        for arm, chosen in arms.items():
            sweep = f"multirun/poad_ten_seeds/{task}/{arm}"
            out.append((run([*overrides, *chosen, f"seed={SEEDS}"], sweep, extra), f"poad_ten_seeds/{task}"))
    return out


def tls_long(extra: list[str]) -> list[tuple[list[str], str]]:
    overrides = ["env=overcooked", "env.task=tomato_lettuce_salad", "rollout.total_env_steps=200704", "seed=0,1,2,3,4"]
    return [(run(overrides, "multirun/tls_long", extra), "tls_long")]


LORA_ARMS = {"top8": "8", "top15": "15", "all": "null"}  # cheapest first: a session that ends keeps the most arms


def lora_check(extra: list[str], arms: list[str] | None = None) -> list[tuple[list[str], str]]:
    """The LoRA-blocks learning check: which blocks LoRA must adapt for SmolLM2 TWOSOME (word) to learn Tomato Salad;
    the cheaper arms run their frozen trunk from the trunk cache. One sweep and one archive per arm."""
    out = []
    for arm, layers in LORA_ARMS.items():
        if arms and arm not in arms:
            continue
        overrides = [*TASKS["tomato_salad"], "model=smollm2", f"agent.policy.lora_layers={layers}", "seed=0,1,2,3,4"]
        out.append((run(overrides, f"multirun/lora_check/{arm}", extra), f"lora_check/{arm}"))
    return out


# SmolLM2 splits "pancake" and "sofa" into several tokens, so on these tasks word and token normalization differ. Food
# Preparation at twice the small profile's 8,192 steps (SmolLM2's GPU runs at 8,192 left 2 of 3 word seeds without
# a success), Entertainment at the small profile's 24,576.
WORD_TOKEN_TASKS = {
    "food_preparation": ["env=virtualhome", "env.task=food_preparation", "rollout.total_env_steps=16384"],
    "entertainment": ["env=virtualhome", "env.task=entertainment", "rollout.total_env_steps=24576"],
}
WORD_TOKEN_ARMS = ("word", "token")


def word_token(extra: list[str], arms: list[str] | None = None) -> list[tuple[list[str], str]]:
    """SmolLM2 TWOSOME at its default LoRA blocks (model=smollm2), word against token
    normalization, 5 seeds per task, the cheaper task first. One sweep and one archive per task and normalization."""
    out = []
    for task, overrides in WORD_TOKEN_TASKS.items():
        for norm in WORD_TOKEN_ARMS:
            if arms and norm not in arms:
                continue
            job = [*overrides, "model=smollm2", f"norm={norm}", "seed=0,1,2,3,4"]
            out.append((run(job, f"multirun/word_token/{task}/{norm}", extra), f"word_token/{task}/{norm}"))
    return out


MISALIGNMENT_TASKS = {
    "tomato_salad": ["env=overcooked", "env.task=tomato_salad"],
    "tomato_lettuce_salad": ["env=overcooked", "env.task=tomato_lettuce_salad"],
    "food_preparation": ["env=virtualhome", "env.task=food_preparation"],
    "entertainment": ["env=virtualhome", "env.task=entertainment"],
    "babyai_goto": ["env=babyai_text", "env.task=goto"],
}


def misalignment(extra: list[str]) -> list[tuple[list[str], str]]:
    """Action misalignment: the tiny model and SmolLM2 writing their actions, zero-shot, greedy and sampled, 100
    episodes per task. The TWOSOME tasks start every episode in the same state, so greedy generation there is one
    trajectory; sampled generation gives 100 different ones. (Decoding is the agent's: the evaluation's own sampling,
    which would repeat the greedy arm, is off.) A float32 base: model.dtype=auto measures the CPU at start-up, and
    bfloat16 could write other texts on another machine."""
    out = []
    for task, overrides in MISALIGNMENT_TASKS.items():
        job = [
            *overrides,
            "agent=generate",
            "model=tiny,smollm2",
            "agent.policy.decoding=greedy,sample",
            "model.dtype=float32",
        ]
        job += ["eval.episodes=100", "seed=0"]
        out.append((run(job, f"multirun/misalignment/{task}", extra, "eval.final_sampled_episodes=0"), "misalignment"))
    return out


def wording(extra: list[str]) -> list[tuple[list[str], str]]:
    """Training on random paraphrases: TWOSOME (tiny model) trained on the canonical wording against a training
    paraphrase drawn per episode (env.wording=random), 5 seeds each on Tomato Salad and Food Preparation. Then every
    run in every wording:
    python -m twosome.evaluation.generalization multirun/wording/<task>/*/*/ --suite prompt_robustness --episodes 100"""
    out = []
    for task in ("tomato_salad", "food_preparation"):
        for arm in ("canonical", "random"):
            overrides = [*TASKS[task], f"env.wording={arm}", "seed=0,1,2,3,4"]
            out.append((run(overrides, f"multirun/wording/{task}/{arm}", extra), f"wording/{task}/{arm}"))
    return out


# Picked on a pilot of seed 0 (2,048 steps, docs/RESULTS.md): BAD's per-token credit and the entropy bonus over the
# whole vocabulary both drove the invalid share to 1; the action's advantage on every token, no entropy bonus and
# 3e-3 brought it down.
GENERATE_RL = ["algo.credit=action", "ppo.ent_coef=0", "ppo.policy_lr=3e-3"]
GENERATE_RL_STEPS = 32768  # twice TWOSOME's budget on this task


def generate_rl(extra: list[str]) -> list[tuple[list[str], str]]:
    """The tiny model writes its actions on Tomato Salad and POAD's update trains the written tokens (an
    invalid text penalized), 5 seeds at twice TWOSOME's budget; TWOSOME's are the 10-seed comparison's
    (docs/data/ten_seeds/tomato_salad)."""
    overrides = ["env=overcooked", "env.task=tomato_salad", "agent=generate_rl", "algo=poad", *GENERATE_RL]
    overrides += [f"rollout.total_env_steps={GENERATE_RL_STEPS}", "seed=0,1,2,3,4"]
    return [(run(overrides, "multirun/generate_rl", extra), "generate_rl")]


def gigpo(extra: list[str], tasks: list[str] | None = None) -> list[tuple[list[str], str]]:
    """GiGPO on TWOSOME's word-normalized policy, 10 seeds per task, at the POAD study's budgets; PPO and
    POAD are that study's runs (docs/data/poad_ten_seeds)."""
    out = []
    for task, overrides in TASKS.items():
        if tasks and task not in tasks:
            continue
        sweep = f"multirun/gigpo_ten_seeds/{task}"
        out.append((run([*overrides, "algo=gigpo", f"seed={SEEDS}"], sweep, extra), f"gigpo_ten_seeds/{task}"))
    return out


def prior_pick(extra: list[str]) -> list[tuple[list[str], str]]:
    out = []
    for model in MODELS:
        overrides = [*TASKS["tomato_salad"], f"model={model}", f"ppo.policy_lr={','.join(LEARNING_RATES[model])}"]
        overrides.append("run_name=${agent.name}-${agent.run_label}-lr${ppo.policy_lr}-s${seed}")  # one per rate
        sweep = f"multirun/prior/pick/{model}"
        out.append((run([*overrides, f"seed={PICK_SEEDS}"], sweep, extra), "prior_ten_seeds/pick"))
    return out


def pick_learning_rates(sweep: Path) -> dict[str, str]:
    """Per model, the learning rate with the highest mean sampled success over the pick seeds (ties: the higher
    mean sampled discounted return)."""
    from omegaconf import OmegaConf

    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for summary in sweep.rglob(SUMMARY):
        cfg = OmegaConf.load(RunDir(summary.parent).config)
        s = json.loads(summary.read_text())
        key = (str(cfg.model.name), f"{float(cfg.ppo.policy_lr):g}")
        scores.setdefault(key, []).append((s["sampled/success_rate"], s["sampled/discounted_return"]))
    short = sorted(f"{m} lr {lr}" for (m, lr), v in scores.items() if len(v) < len(PICK_SEEDS.split(",")))
    models = {m for m, _ in scores}
    if short or len(scores) < sum(len(rates) for rates in LEARNING_RATES.values()) or not models:
        raise SystemExit(
            f"the pick needs every (model, rate) on all pick seeds {PICK_SEEDS}; missing: {short or 'runs'}"
        )
    best: dict[str, tuple[tuple[float, float], str]] = {}
    for (model, lr), values in sorted(scores.items()):
        mean = tuple(sum(v[i] for v in values) / len(values) for i in (0, 1))
        if model not in best or mean > best[model][0]:
            best[model] = (mean, lr)
    return {model: lr for model, (_, lr) in best.items()}


def prior_final(picked: dict[str, str], extra: list[str]) -> list[tuple[list[str], str]]:
    names = {"tiny": "tiny-household", "tiny_random": "tiny-household-random"}
    out = []
    for model in MODELS:
        lr = picked[names[model]]
        overrides = [*TASKS["tomato_salad"], f"model={model}", f"ppo.policy_lr={lr}", f"seed={SEEDS}"]
        out.append((run(overrides, f"multirun/prior/{model}", extra), "prior_ten_seeds"))
    return out


# Arguments after -- that say where and how a study runs, not what it runs: a study given only these is archived.
KEEPS_THE_STUDY = ("trainer.num_threads=", "checkpoint.", "logger.", "hydra.", "hydra/launcher=")


def changes_to_the_study(extra: list[str]) -> list[str]:
    """The passthrough arguments that change what a study runs (its runs are then a try-out, never archived)."""
    return [e for e in extra if not e.lstrip("+~").startswith(KEEPS_THE_STUDY)]


def execute(jobs: list[tuple[list[str], str]], dry_run: bool, changes: list[str] | None = None) -> list[str]:
    failed = []
    for cmd, archive in jobs:
        print(" ".join(cmd[1:]), flush=True)
        sweep = next(c for c in cmd if c.startswith("hydra.sweep.dir=")).split("=", 1)[1]
        if changes:
            print(f"  not archived: {' '.join(changes)} change the study; its runs stay in {sweep}", flush=True)
        else:
            print(f"  archived into docs/data/{archive} when its runs finish", flush=True)
        if dry_run:
            continue
        returncode = run_sweep(cmd, "studies.py", sweep)  # stopping this script stops the sweep
        if returncode != 0:
            failed.append(f"hydra.sweep.dir={sweep}")
        if changes:
            continue
        archived = subprocess.run(
            [sys.executable, str(ROOT / "analysis" / "archive_runs.py"), sweep, "--out", f"docs/data/{archive}"],
            cwd=ROOT,
        )
        if archived.returncode != 0:
            failed.append(f"archiving hydra.sweep.dir={sweep} into docs/data/{archive}")
    return failed


def main(argv: list[str] | None = None) -> None:
    argv, extra = split_passthrough(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    studies = ["poad", "prior", "tls_long", "lora_check", "word_token", "misalignment", "wording", "generate_rl"]
    studies.append("gigpo")
    arms = {"lora_check": list(LORA_ARMS), "word_token": list(WORD_TOKEN_ARMS)}
    parser.add_argument("study", choices=studies)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--task", nargs="+", choices=sorted(TASKS), help="poad, gigpo: only these tasks")
    parser.add_argument("--arm", nargs="+", help=f"only these arms: {arms}")
    args = parser.parse_args(argv)
    if args.task and args.study not in ("poad", "gigpo"):
        parser.error(f"--task is not valid for {args.study}; valid for: poad, gigpo")
    bad = [a for a in args.arm or [] if a not in arms.get(args.study, [])]
    if bad:
        parser.error(f"--arm {' '.join(bad)} is not valid for {args.study}; valid: {arms.get(args.study) or 'none'}")
    changes = changes_to_the_study(extra)
    if args.study == "prior":
        failed = execute(prior_pick(extra), args.dry_run, changes)
        if args.dry_run:
            picked = {"tiny-household": "<picked>", "tiny-household-random": "<picked>"}
        else:
            picked = pick_learning_rates(ROOT / "multirun" / "prior" / "pick")
            (ROOT / "multirun" / "prior" / "pick.json").write_text(json.dumps(picked, indent=2))
            print(f"picked policy learning rates: {picked}")
        failed += execute(prior_final(picked, extra), args.dry_run, changes)
    else:
        if args.study == "poad":
            jobs = poad(extra, args.task)
        elif args.study == "tls_long":
            jobs = tls_long(extra)
        elif args.study == "misalignment":
            jobs = misalignment(extra)
        elif args.study == "wording":
            jobs = wording(extra)
        elif args.study == "generate_rl":
            jobs = generate_rl(extra)
        elif args.study == "gigpo":
            jobs = gigpo(extra, args.task)
        elif args.study == "word_token":
            jobs = word_token(extra, args.arm)
        else:
            jobs = lora_check(extra, args.arm)
        failed = execute(jobs, args.dry_run, changes)
    if failed:
        raise SystemExit(f"failed: {failed}; see each sweep's sweep_summary.csv and the messages above")


if __name__ == "__main__":
    main()
