#!/usr/bin/env bash
# GLAM's first claim at CPU scale: an LLM as a causal GLAM on BabyAI-Text GoTo, one run per (model, seed):
# model=smollm2 (pretrained) against model=smollm2_random (the same architecture, random weights), and `scratch`,
# PPO from scratch on the symbolic view. A run resumes from its directory: rerunning the same line after an
# interruption continues where it stopped (SIGTERM saves first). docs/RESULTS.md has the tables and figures.
#   bash experiments/glam_babyai.sh <model config | scratch> <seed> [threads]
# From the environment: STEPS (GLAM runs' env steps, default 4096), LORA_LAYERS (default 8), OUT (default
# multirun/glam_goto), NORM (default none, GLAM's summed log-probabilities; token or word normalize them as TWOSOME
# does, and the run directory is then <model>_<norm>_s<seed>).
set -euo pipefail
usage="usage: bash $0 <model config (e.g. smollm2, smollm2_random) | scratch> <seed> [threads]"
if [[ ${1-} == -h || ${1-} == --help ]]; then
  sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"
  echo "$usage"
  exit 0
fi
if [[ $# -lt 2 || $# -gt 3 || $1 == -* ]]; then
  echo "$usage" >&2
  exit 2
fi
model=$1 seed=$2 threads=${3:-2} norm=${NORM:-none}
python=${PYTHON:-.venv/bin/python}
out=${OUT:-multirun/glam_goto}
if [[ $model == scratch ]]; then
  # cleanrl-style PPO (ppo=scratch: 100k steps) on minigrid's view and the mission's words, masked to valid actions
  exec "$python" src/run.py env=babyai_text env.task=goto agent=ppo trainer.num_threads="$threads" \
    eval.every_updates=0 eval.episodes=32 seed="$seed" hydra.run.dir="$out/scratch_s$seed"
fi
# LoRA on the top 8 of SmolLM2's 30 blocks and forwards of 8 decisions: what 2 CPU cores and 24 GiB afford
# (docs/BABYAI_TEXT.md, "Cost"). A float32 base, as the runs in docs/data/glam_goto had, whatever auto would pick.
name=$model
[[ $norm == none ]] || name=${model}_$norm
exec "$python" src/run.py env=babyai_text env.task=goto agent=glam model="$model" model.dtype=float32 norm="$norm" \
  agent.policy.lora_layers="${LORA_LAYERS:-8}" rollout.total_env_steps="${STEPS:-4096}" ppo.policy_chunk_size=8 \
  trainer.num_threads="$threads" eval.every_updates=0 eval.episodes=16 seed="$seed" hydra.run.dir="$out/${name}_s$seed"
