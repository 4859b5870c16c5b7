#!/usr/bin/env bash
# Does the pretrained household model carry a useful prior for Overcooked Tomato Salad?
#   (a) untrained TWOSOME (zero-shot) vs a uniformly random policy, 100 evaluation episodes each
#   (b) TWOSOME with the pretrained model vs the same architecture randomly initialised, 3 seeds each
# Results: $OUT/a_zeroshot_vs_random and $OUT/b_pretrained_vs_random, with (b)'s curves by analysis/learning_curves.py.
#   bash experiments/prior_knowledge.sh     (hours on 2 cores; no arguments)
# From the environment: PY (default .venv/bin/python), STEPS (default 16384), LR (default 1e-3), OUT (default
# multirun/prior_knowledge).
set -euo pipefail
usage="usage: bash $0 [--help]   (settings from the environment: PY, STEPS, LR, OUT)"
if [[ $# -gt 0 ]]; then
  if [[ $1 == -h || $1 == --help ]]; then
    sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"
    echo "$usage"
    exit 0
  fi
  echo "$0 takes no arguments (got: $*); nothing was started" >&2
  echo "$usage" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-16384}
LR=${LR:-1e-3}
OUT=${OUT:-multirun/prior_knowledge}

# (a) sampled actions (the policy itself) and greedy actions (its mode)
$PY src/run.py -m agent=zeroshot,random eval.episodes=100 eval.deterministic=false,true \
    hydra.sweep.dir="$OUT/a_zeroshot_vs_random"

# (b) learning speed with and without pretraining
$PY src/run.py -m model=tiny,tiny_random seed=0,1,2 rollout.total_env_steps="$STEPS" ppo.policy_lr="$LR" eval.every_updates=8 \
    eval.episodes=8 hydra.sweep.dir="$OUT/b_pretrained_vs_random"
$PY analysis/learning_curves.py "$OUT/b_pretrained_vs_random" --out "$OUT/b_pretrained_vs_random/curves"
