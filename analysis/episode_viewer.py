"""Play one episode with a run's agent and write it as a GIF (and JSON): the scene, the prompt, the policy.

    python analysis/episode_viewer.py RUN_DIR --out episode.gif                       # the run's env, sampled
    python analysis/episode_viewer.py RUN_DIR --greedy --out episode.gif              # most likely action
    python analysis/episode_viewer.py RUN_DIR --untrained --env twosome/BabyAI-GoTo-v0 --max-steps 20 --out x.gif

The agent is rebuilt with ``load_run`` (``--untrained``: without its trained weights). Every decision is one
frame: on the left the environment (Overcooked: the kitchen grid; VirtualHome: the rooms and what is in them;
BabyAI-Text: minigrid's picture; TextWorld: the game's screen), on the right the prompt and every valid action's
probability, the chosen one highlighted. A last frame shows the state the episode ended in. ``episode.json``
beside the GIF holds, per step, the prompt, the actions, their validity and probabilities, the chosen action and
the reward.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from omegaconf import OmegaConf
from PIL import Image

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.envs.contract import read_decision, read_step
from twosome.evaluation.generalization import load_run, run_config
from twosome.training.vector_env import single_obs_batch

FAMILIES = {
    "twosome/Overcooked-": "overcooked",
    "twosome/VirtualHome-": "virtualhome",
    "twosome/BabyAI-": "babyai",
    "twosome/TextWorld-": "textworld",
}
RENDER_MODE = {"overcooked": "ansi", "virtualhome": "ansi", "babyai": "rgb_array", "textworld": "ansi"}
PROMPT_WIDTH, PROMPT_LINES = 84, 20


# ------------------------------------------------------------------------------------------------ playing
def family_of(env_id: str) -> str:
    """'overcooked', 'virtualhome', 'babyai' or 'textworld', from the env id's prefix."""
    for prefix, family in FAMILIES.items():
        if env_id.startswith(prefix):
            return family
    raise ValueError(f"no frame drawer for {env_id!r}; known prefixes: {list(FAMILIES)}")


def make_env(cfg, env_id: str) -> gym.Env:
    """The env with a picture-giving render mode; the run's env kwargs apply only to the run's own env."""
    kwargs = {}
    if env_id == cfg.env.id and "kwargs" in cfg.env:
        kwargs = OmegaConf.to_container(cfg.env.kwargs, resolve=True)
    return gym.make(env_id, render_mode=RENDER_MODE[family_of(env_id)], **kwargs)


def snapshot(env: gym.Env, family: str) -> dict[str, Any]:
    """What the frame drawer needs of the current state (copied: the env moves on)."""
    base = env.unwrapped
    if family == "overcooked":
        return {"world": base.world.clone(), "text": env.render()}
    if family == "virtualhome":
        return {"world": base.world.copy(), "text": env.render()}
    if family == "textworld":
        return {"text": env.render()}
    return {"image": env.render(), "text": base.level.mission}


def play_episode(agent, env: gym.Env, seed: int, greedy: bool, max_steps: int | None) -> dict[str, Any]:
    """Run one episode; per decision record the prompt, the policy and the outcome, and the scene before it."""
    family = family_of(env.spec.id)
    torch.manual_seed(seed)
    obs, info = env.reset(seed=seed)
    steps, scenes, total, success, ended = [], [], 0.0, False, False
    with torch.no_grad(), agent.frozen_policy():
        while not ended and (max_steps is None or len(steps) < max_steps):
            scenes.append(snapshot(env, family))
            dist = agent.distribution(single_obs_batch(obs, info))
            probs = dist.probs[0].double()
            action = int(probs.argmax() if greedy else dist.sample()[0])
            decision = read_decision(info)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            success, ended = read_step(info).success, bool(terminated or truncated)
            steps.append(
                {
                    "step": len(steps),
                    "prompt": decision.prompt,
                    "actions": decision.actions,
                    "valid": decision.action_mask.tolist(),
                    "probabilities": probs[: len(decision.actions)].tolist(),
                    "chosen": action,
                    "chosen_text": decision.actions[action],
                    "reward": float(reward),
                    "return_so_far": total,
                }
            )
    scenes.append(snapshot(env, family))
    end = ("success" if success else "episode ended") if ended else f"stopped after {len(steps)} steps"
    return {"steps": steps, "scenes": scenes, "return": total, "success": success, "ended": ended, "end": end}


# ------------------------------------------------------------------------------------------------ scenes
FOOD_COLOURS = {"tomato": "#d9402b", "lettuce": "#4caf50", "onion": "#9c5fb5"}
TILE_COLOURS = {"space": "#f5efe2", "counter": "#b48a5a", "knife": "#8aa4bf", "delivery": "#7cc37c"}
TILE_LABELS = {"knife": "board", "delivery": "deliver"}


def draw_overcooked(ax, scene: dict[str, Any]) -> None:
    """The kitchen grid: tiles as coloured squares, pieces as lettered discs, the agent's view dashed."""
    from twosome.envs.overcooked.world import CHOPS_NEEDED

    world = scene["world"]
    k = world.kitchen
    rows, cols = k.shape
    for x in range(rows):
        for y in range(cols):
            tile = k.static_tile((x, y))
            ax.add_patch(Rectangle((y, x), 1, 1, facecolor=TILE_COLOURS[tile], edgecolor="#5a4a3a", lw=0.8))
            if tile in TILE_LABELS:
                ax.text(y + 0.5, x + 0.97, TILE_LABELS[tile], ha="center", va="bottom", fontsize=7)
    r, (row, col) = world.view_radius, world.agent
    if r:  # the view window, clipped to the map
        x0, x1, y0, y1 = max(row - r, 0), min(row + r + 1, rows), max(col - r, 0), min(col + r + 1, cols)
        ax.add_patch(Rectangle((y0, x0), y1 - y0, x1 - x0, fill=False, ls="--", lw=1.5, ec="#3060c0"))
    for piece in range(len(k.piece_starts)):
        if piece == world.held or piece in world.bowl:
            continue
        x, y = world.rest[piece]
        _draw_piece(ax, world, piece, y + 0.5, x + 0.42, 0.3)
        if world.is_food(piece) and 0 < world.chops[piece] < CHOPS_NEEDED:
            ax.text(y + 0.5, x + 0.1, f"{world.chops[piece]}/{CHOPS_NEEDED}", ha="center", va="top", fontsize=7)
    ax.add_patch(Circle((world.agent[1] + 0.5, world.agent[0] + 0.5), 0.38, facecolor="#2f6fd6", ec="black"))
    ax.text(world.agent[1] + 0.5, world.agent[0] + 0.5, "A", ha="center", va="center", color="white", weight="bold")
    if world.held is not None:
        _draw_piece(ax, world, world.held, world.agent[1] + 0.85, world.agent[0] + 0.2, 0.22)
    status = scene["text"].rstrip("\n").split("\n")[rows:]
    legend = [
        "",
        "t l o: tomato, lettuce, onion (T L O: chopped)",
        "p: bowl (P+letters: with food), A: agent,",
        "dashed: what the agent sees",
    ]
    ax.text(0, rows + 0.15, "\n".join(status + legend), va="top", ha="left", fontsize=9, family="monospace")
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 2.6, -0.05)
    ax.set_aspect("equal")
    ax.axis("off")


def _draw_piece(ax, world, piece: int, cx: float, cy: float, radius: float) -> None:
    k = world.kitchen
    if piece == k.plate:
        ax.add_patch(Circle((cx, cy), radius, facecolor="white", ec="#444444", lw=1.2))
        inside = "".join(k.foods[f][0].upper() for f in world.bowl)
        ax.text(cx, cy, "P" + inside if inside else "p", ha="center", va="center", fontsize=9, weight="bold")
        return
    name = k.foods[piece]
    ax.add_patch(Circle((cx, cy), radius, facecolor=FOOD_COLOURS.get(name, "#cc8800"), ec="black", lw=0.8))
    letter = name[0].upper() if world.chopped(piece) else name[0]
    ax.text(cx, cy, letter, ha="center", va="center", color="white", fontsize=10, weight="bold")


def draw_virtualhome(ax, scene: dict[str, Any]) -> None:
    """Four room boxes listing their things (seen ones black, unseen grey), the agent in its room, the card below."""
    from twosome.envs.virtualhome.world import INSIDE, ON_TOP

    world = scene["world"]
    seen, held, here = world.visible(), set(world.held()), world.agent_room
    rooms = list(world.scene.rooms)
    for i, room in enumerate(rooms):
        col, row = i % 2, i // 2
        x0, y0 = col * 1.0 + 0.02, row * 1.0 + 0.02
        ax.add_patch(
            Rectangle((x0, y0), 0.96, 0.96, facecolor="#fff6d8" if room == here else "#f2f2f2", ec="#555555", lw=1.5)
        )
        ax.text(x0 + 0.04, y0 + 0.05, room, va="top", fontsize=11, weight="bold")
        line = 0
        for thing in world.scene.things:
            name = thing.name
            if name in held or world.room_of(name) != room:
                continue
            states = sorted(s.lower() for s in world.states.get(name, ()))
            where = [f"on {s}" for s in world.targets(name, ON_TOP)]
            where += [f"in {b}" for b in world.targets(name, INSIDE) if b not in world.rooms]
            label = name + (f" ({', '.join(states)})" if states else "") + (f" [{', '.join(where)}]" if where else "")
            colour = "black" if name in seen else "#999999"
            ax.text(x0 + 0.06, y0 + 0.2 + 0.075 * line, label, va="top", fontsize=8, color=colour)
            line += 1
        if room == here:
            ax.add_patch(Circle((x0 + 0.86, y0 + 0.1), 0.06, facecolor="#2f6fd6", ec="black"))
            ax.text(x0 + 0.86, y0 + 0.1, "A", ha="center", va="center", color="white", weight="bold")
    card = [textwrap.fill(line, 78, subsequent_indent="  ") for line in scene["text"].rstrip("\n").split("\n")]
    ax.text(0.02, 2.06, "\n".join(card), va="top", fontsize=8, family="monospace")
    ax.set_xlim(0, 2)
    ax.set_ylim(2.75, 0)
    ax.axis("off")


def draw_babyai(ax, scene: dict[str, Any]) -> None:
    """Minigrid's full picture (the agent's view highlighted), the mission below."""
    ax.imshow(scene["image"])
    ax.set_xlabel("mission: " + scene["text"], fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_text_game(ax, scene: dict[str, Any]) -> None:
    """A text game's screen (TextWorld): the score, the room and the inventory in the game's words."""
    lines = [w for part in scene["text"].split("\n") for w in (textwrap.wrap(part, 64) or [""])]
    ax.text(0.0, 1.0, "\n".join(lines[:40]), va="top", fontsize=9, family="monospace", transform=ax.transAxes)
    ax.axis("off")


DRAWERS = {
    "overcooked": draw_overcooked,
    "virtualhome": draw_virtualhome,
    "babyai": draw_babyai,
    "textworld": draw_text_game,
}


# ------------------------------------------------------------------------------------------------ frames
def wrap_prompt(prompt: str, width: int = PROMPT_WIDTH, max_lines: int = PROMPT_LINES) -> list[str]:
    """The prompt's lines wrapped to ``width`` columns (its own breaks kept), cut to ``max_lines``."""
    lines = [w for part in prompt.split("\n") for w in (textwrap.wrap(part.strip(), width) or [""])]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + ["[...]"]
    return lines


def draw_policy(ax, step: dict[str, Any]) -> None:
    """Horizontal bars: every valid action's probability, the chosen one orange and bold."""
    valid = [i for i, ok in enumerate(step["valid"]) if ok]
    probs = [step["probabilities"][i] for i in valid]
    chosen = [i == step["chosen"] for i in valid]
    ys = np.arange(len(valid))
    ax.barh(ys, probs, color=["#f28e2b" if c else "#4e79a7" for c in chosen])
    size = 10 if len(valid) <= 10 else 8
    ax.set_yticks(ys, [textwrap.shorten(step["actions"][i], 40, placeholder="...") for i in valid], fontsize=size)
    for label, c in zip(ax.get_yticklabels(), chosen):
        if c:
            label.set_weight("bold")
    for y, p in zip(ys, probs):  # the value beside its bar, or inside a long one
        inside = p > 0.85
        x, ha, colour = (p - 0.01, "right", "white") if inside else (p + 0.01, "left", "black")
        weight = "bold" if inside else "normal"
        ax.text(x, y, f"{p:.2f}", va="center", ha=ha, color=colour, fontsize=size - 1, weight=weight)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("probability")
    ax.set_title(f"chose: {step['chosen_text']}   (reward {step['reward']:+.3f})", fontsize=11, loc="left")


def summary_lines(episode: dict[str, Any], max_lines: int = 28) -> list[str]:
    """The actions taken, one line each (the last ones if there are many), for the final frame."""
    lines = [f"{s['step']:>3}  {s['chosen_text']}  ({s['reward']:+.3f})" for s in episode["steps"]]
    if len(lines) > max_lines:
        lines = ["  ..."] + lines[-(max_lines - 1) :]
    return lines


def render_frame(
    env_id: str, header: str, scene: dict[str, Any], step: dict[str, Any] | None, text: list[str], text_lines: int
) -> np.ndarray:
    """One RGB frame: the scene left; right the prompt and the policy (``step``), or ``text`` alone (last frame).

    ``text_lines`` sizes the text panel, the same for every frame of an episode so that the bars do not jump.
    """
    fig = Figure(figsize=(14, 7.5), dpi=80)
    FigureCanvasAgg(fig)
    text_px = 12 * text_lines + 10  # a 9 pt monospace line is about 12 px at 80 dpi; the bars get the rest
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.2], height_ratios=[text_px, max(220, 470 - text_px)])
    grid.update(left=0.02, right=0.98, top=0.93, bottom=0.08, hspace=0.15, wspace=0.3)
    DRAWERS[family_of(env_id)](fig.add_subplot(grid[:, 0]), scene)
    fig.suptitle(header, fontsize=13, weight="bold", x=0.02, y=0.985, ha="left")
    if step is None:
        text_ax = fig.add_subplot(grid[:, 1])
        text_ax.axis("off")
        text_ax.text(0, 1, text[0], fontsize=20, weight="bold", va="top")
        text_ax.text(0, 0.9, "\n".join(text[1:]), fontsize=10, family="monospace", va="top")
    else:
        text_ax = fig.add_subplot(grid[0, 1])
        text_ax.axis("off")
        text_ax.text(0, 1, "\n".join(["prompt:", *text]), fontsize=9, family="monospace", va="top")
        draw_policy(fig.add_subplot(grid[1, 1]), step)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def write_gif(frames: list[np.ndarray], path: Path, frame_ms: int) -> None:
    """Frames to a looping GIF (the last frame held three times as long)."""
    images = [Image.fromarray(f) for f in frames]
    durations = [frame_ms] * (len(images) - 1) + [3 * frame_ms]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)


def episode_frames(env_id: str, label: str, episode: dict[str, Any]) -> list[np.ndarray]:
    """One frame per decision, then one for the final state."""
    prompts = [wrap_prompt(s["prompt"]) for s in episode["steps"]]
    text_lines = 1 + max((len(p) for p in prompts), default=0)
    frames, previous = [], 0.0
    for step, scene, prompt in zip(episode["steps"], episode["scenes"], prompts):
        header = f"{env_id}   {label}   step {step['step']}   return so far {previous:.3f}"
        frames.append(render_frame(env_id, header, scene, step, prompt, text_lines))
        previous = step["return_so_far"]
    header = f"{env_id}   {label}   after {len(episode['steps'])} steps   return {episode['return']:.3f}"
    end = [episode["end"], "actions taken (reward):", *summary_lines(episode)]
    frames.append(render_frame(env_id, header, episode["scenes"][-1], None, end, text_lines))
    return frames


# ------------------------------------------------------------------------------------------------ command
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path, help="run directory (config.yaml and saved weights)")
    ap.add_argument("--untrained", action="store_true", help="skip the trained weights (the zero-shot twin)")
    ap.add_argument("--env", default=None, help="env id to play (default: the run's own env)")
    ap.add_argument("--seed", type=int, default=0, help="reset seed and sampling seed")
    ap.add_argument("--greedy", action="store_true", help="take the most likely action (default: sample)")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many decisions")
    ap.add_argument("--frame-ms", type=int, default=1500, help="milliseconds per frame")
    ap.add_argument("--out", type=Path, default=Path("episode.gif"), help="GIF path; the JSON goes beside it")
    args = ap.parse_args(argv)
    if args.max_steps is not None and args.max_steps < 1:
        ap.error(f"--max-steps must be >= 1, got {args.max_steps}")
    try:
        run_config(args.run_dir)
    except FileNotFoundError as err:
        ap.error(str(err))
    try:
        family_of(args.env or "")  # no --env: the run's own, checked once its config is read
    except ValueError as err:
        if args.env is not None:
            ap.error(f"--env {args.env!r}: {err}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    cfg, agent = load_run(args.run_dir, untrained=args.untrained)
    env_id = args.env or cfg.env.id
    family_of(env_id)  # fail before playing if there is no drawer
    env = make_env(cfg, env_id)
    try:
        episode = play_episode(agent, env, args.seed, args.greedy, args.max_steps)
    finally:
        env.close()
    label = ("untrained " if args.untrained else "") + f"{cfg.agent.name} s{cfg.seed}"
    label += ", greedy" if args.greedy else ", sampled"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_gif(episode_frames(env_id, label, episode), args.out, args.frame_ms)
    record = {
        "run_dir": str(args.run_dir),
        "env": env_id,
        "agent": cfg.agent.name,
        "untrained": args.untrained,
        "seed": args.seed,
        "greedy": args.greedy,
        "return": episode["return"],
        "success": episode["success"],
        "ended": episode["ended"],
        "steps": episode["steps"],
    }
    json_path = args.out.with_suffix(".json")
    json_path.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out} ({len(episode['steps']) + 1} frames) and {json_path}: {episode['end']}", file=sys.stderr)
    return record


if __name__ == "__main__":
    main()
