"""Run directories and the first hour of a new user: a run directory is locked, a
rejected command writes nothing, names are safe, small mistakes get clear messages, --help and config errors are
fast (no torch), a finished run prints its summary."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import NO_SAMPLED_EPISODES, ROOT, compose_cfg, run_cli, small_run, start, wait_for_checkpoint
from omegaconf import OmegaConf

from twosome.config import ConfigError, budget_note, run_settings, validate
from twosome.training.lifecycle import RunDirInUse, prepare_run_dir, run_dir_lock
from twosome.training.run_state import DamagedCheckpoint, read_run_state
from twosome.training.train import train


# --- 6: one process per run directory ------------------------------------------------------------------------------
def _hold_lock(run_dir: Path) -> subprocess.Popen:
    """Another process that holds the run directory's lock (as a running training would) until killed."""
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / "src")!r})
        from pathlib import Path
        from twosome.training.lifecycle import run_dir_lock
        with run_dir_lock(Path({str(run_dir)!r})):
            print("locked", flush=True)
            time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_command_refuses_a_run_directory_in_use_and_a_dead_holder_does_not_block(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = _hold_lock(run)
    try:
        with pytest.raises(RunDirInUse, match=f"{run} is in use by process {holder.pid}"):
            train(compose_cfg("checkpoint.every_updates=1"), run_dir=run)
        assert sorted(p.name for p in run.iterdir()) == [".lock"]  # nothing else written
    finally:
        holder.send_signal(signal.SIGKILL)  # the kernel releases its lock; the pid stays in the file
        holder.wait()
    assert (run / ".lock").read_text().strip() == str(holder.pid)
    with run_dir_lock(run):  # a stale lock never blocks
        assert (run / ".lock").read_text().strip() == str(os.getpid())


def test_two_identical_commands_at_once_the_second_refuses(tmp_path, tiny_model_dir):
    args = small_run(tiny_model_dir, tmp_path / "run", "rollout.total_env_steps=6400")  # long enough to be running
    first = start(args, tmp_path)
    try:
        wait_for_checkpoint(tmp_path / "run", first)
        second = run_cli(*args, cwd=tmp_path)
        assert second.returncode != 0
        assert f"{tmp_path / 'run'} is in use by process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr, second.stderr  # a refusal, not a crash
    finally:
        first.kill()
        first.wait()


# --- 7: validate before writing ----------------------------------------------------------------------------------
def _finished_looking_run(run: Path) -> dict[str, str]:
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- seed=0\n")
    (run / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (run / "config.yaml").write_text(OmegaConf.to_yaml(compose_cfg(), resolve=True))
    (run / "summary.json").write_text("{}")
    return {str(p.relative_to(run)): p.read_text() for p in run.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "override,message",
    [
        (
            "rollout.num_envs=abc",
            "Value 'abc' of type 'str' could not be converted to Integer\n    full_key: rollout.num_envs",
        ),
        ("ppo.policy_lr=0.5", "holds a run of a different config \\(ppo.policy_lr: 0.001 -> 0.5\\)"),
    ],
)
def test_a_rejected_command_writes_nothing(tmp_path, override, message):
    """Hydra wrote .hydra/ (and created the directory) before the run's own checks."""
    import re

    run = tmp_path / "run"
    before = _finished_looking_run(run)
    proc = run_cli(override, f"hydra.run.dir={run}", cwd=tmp_path, timeout=120)
    assert proc.returncode != 0 and re.search(message, proc.stderr), proc.stderr[-2000:]
    assert {str(p.relative_to(run)): p.read_text() for p in run.rglob("*") if p.is_file()} == before
    if "abc" in override:  # a config error leaves no orphan directory
        proc = run_cli(override, f"hydra.run.dir={tmp_path / 'new'}", cwd=tmp_path, timeout=120)
        assert proc.returncode != 0 and not (tmp_path / "new").exists()


def test_a_refused_sweep_job_leaves_the_runs_hydra_records_as_they_were(tmp_path):
    """In a sweep, Hydra writes a job's .hydra/ before the suite's checks run (no callback comes earlier): a job
    refused for holding another config's run used to leave .hydra/ describing settings the run never trained with.
    Hydra now writes .hydra-pending/, which becomes .hydra/ only once the job is accepted."""
    run = tmp_path / "sweep" / "job"
    before = _finished_looking_run(run)
    args = ["-m", "ppo.policy_lr=0.5", f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.sweep.subdir=job"]
    proc = run_cli(*args, cwd=tmp_path, timeout=180)
    assert "holds a run of a different config" in proc.stdout + proc.stderr, proc.stderr[-2000:]
    after = {str(p.relative_to(run)): p.read_text() for p in run.rglob("*") if p.is_file()}
    assert {k: v for k, v in after.items() if k not in (".lock", "run.log")} == before  # the lock and Hydra's log


def _paused_sweep(tmp_path: Path, name: str, *overrides: str) -> tuple[subprocess.Popen, Path, Path]:
    """``src/run.py -m`` with one job that stops once Hydra has written its records (``tests/pause_at.py``) until
    its ``go`` file exists; returns the process, the file it writes when it stops there and its ``go`` file."""
    marker, go = tmp_path / f"{name}.paused", tmp_path / f"{name}.go"
    pause = [f"+hydra.callbacks.pause.{k}" for k in ("_target_=pause_at.PauseAtJobStart", f"marker={marker}")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    args = [
        *small_run(tmp_path / "no-model", None, NO_SAMPLED_EPISODES)[2:],
        *overrides,
        *pause,
        f"+hydra.callbacks.pause.go={go}",
    ]
    args = [a for a in args if not a.startswith(("model.", "hydra.run"))]
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "-m", *args, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, marker, go


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0][-3000:]
        time.sleep(0.05)


def test_a_sweep_refused_as_in_use_leaves_the_running_jobs_records_and_the_sweeps_as_they_were(tmp_path):
    """Two sweeps of one job directory: the second, started while the first had not yet taken the directory, wrote
    its records over the first's (Hydra writes them before the suite's checks), and the first then took them as its
    own: the running run's .hydra/ and the sweep's multirun.yaml said ppo.policy_lr=0.002, which it never ran with.
    The refused sweep printed a traceback around its one line."""
    long = "rollout.total_env_steps=100000"  # the first still runs when the second asks for its directory
    first, first_paused, first_go = _paused_sweep(tmp_path, "first", long, "ppo.policy_lr=0.001")
    second = None
    try:
        _wait_for(first_paused, first)  # its records written, its directory not yet taken
        sweep = tmp_path / "sweep"
        multirun = (sweep / "multirun.yaml").read_text()
        second, second_paused, second_go = _paused_sweep(tmp_path, "second", long, "ppo.policy_lr=0.002")
        _wait_for(second_paused, second)  # the second's records written too
        first_go.touch()
        job = next(sweep.glob("0_*"))
        _wait_for(job / ".hydra" / "config.yaml", first)  # the first took the directory and its records
        second_go.touch()
        output = second.communicate(timeout=300)[0]
        assert second.returncode != 0 and "is in use by process" in output, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        records = {p.name: p.read_text() for p in (job / ".hydra").iterdir()}
        assert "ppo.policy_lr=0.001" in records["overrides.yaml"] and "0.002" not in records["overrides.yaml"]
        assert "policy_lr: 0.001" in records["config.yaml"]
        assert (sweep / "multirun.yaml").read_text() == multirun
        assert not [p.name for p in job.iterdir() if p.name.startswith(".hydra-pending")]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()


# --- 12: --help and config errors are fast ------------------------------------------------------------------------
HEAVY = ("torch", "pytorch_lightning", "transformers")


@pytest.mark.parametrize("args", [["--help"], ["rollout.num_envs=four"], ["model=hf"], ["norm=words"]])
def test_help_and_config_errors_import_no_torch(tmp_path, args):
    code = textwrap.dedent(
        f"""
        import runpy, sys
        sys.argv = ["run.py", *{args!r}, "hydra.run.dir={tmp_path / "run"}"]
        try:
            runpy.run_path({str(ROOT / "src" / "run.py")!r}, run_name="__main__")
        except SystemExit:
            pass
        print("HEAVY", sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not (tmp_path / "run").exists()
    if args == ["--help"]:
        assert "env=virtualhome: env.task=food_preparation|entertainment|cheese" in proc.stdout
        assert "env=babyai_text: env.task=mixed_train" in proc.stdout


# --- 8: names ----------------------------------------------------------------------------------------------------
def test_run_names_are_checked_and_a_model_path_names_runs_by_its_directory():
    cfg = compose_cfg("model=hf", "model.path=/abs/models/My-Model-7b/")
    assert cfg.model.name == "My-Model-7b"
    assert cfg.run_name == "twosome-My-Model-7b-tomato_salad-word-s0"
    assert compose_cfg("model=hf", "model.path=org/hub-model").model.name == "hub-model"
    for bad in ("../../x", "a/b", ".hidden", "-x", "with space"):
        with pytest.raises(ConfigError, match="run_name=.* is not valid"):
            validate(compose_cfg(f"run_name='{bad}'"))
    validate(compose_cfg("run_name='my_run-2.b+c=d'"))


def test_a_run_trained_on_a_paraphrase_has_its_own_directory():
    """env.wording=random once ran into the canonical run's directory (and was refused there as another config)."""
    canonical = compose_cfg().run_name
    assert compose_cfg("env.wording=canonical").run_name == canonical == "twosome-tiny-household-tomato_salad-word-s0"
    assert compose_cfg("env.wording=random").run_name == "twosome-tiny-household-tomato_salad-word-random-s0"
    assert compose_cfg("env.wording=shuffled").run_name != compose_cfg("env.wording=random").run_name


# --- 9: the small ones -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "override,message",
    [
        ("seed=-1", "seed=-1 is not valid; valid: an integer from 0"),
        ("checkpoint.every_updates=-1", "checkpoint.every_updates=-1 is not valid; valid: an integer >= 0"),
        ("checkpoint.evaluation_every_s=-1", "checkpoint.evaluation_every_s=-1.0 is not valid; valid: seconds >= 0"),
        ("model=hf", "model.path is required with model=hf"),
    ],
)
def test_small_mistakes_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_cfg(override))


# Values on the newer keys were once refused only after the run directory was written and the LM
# loaded (or, for a key added with +, never: the run trained to the end with it ignored).
LATE_MISTAKES = [
    ("agent.policy.lora_layers=0", "agent.policy.lora_layers=0 is not valid; valid: null .* from 1 to 4"),
    ("agent.policy.lora_layers=-1", "agent.policy.lora_layers=-1 is not valid"),
    ("agent.policy.lora_layers=999", "agent.policy.lora_layers=999 is not valid; valid: null .* from 1 to 4"),
    ("agent.policy.lora_layers=abc", "agent.policy.lora_layers='abc' is not valid"),
    # agent.policy is checked against its constructor's signature (read, not imported): keys and their types
    ("agent.policy.trunk_cache_mb=abc", "agent.policy.trunk_cache_mb='abc' is not valid; valid: float"),
    ("agent.policy.lora_r=abc", "agent.policy.lora_r='abc' is not valid; valid: int"),
    ("agent.policy.memoize=maybe", "agent.policy.memoize='maybe' is not valid; valid: bool"),
    ("+agent.policy.typo=1", "agent.policy.typo is not a setting of TwosomeAgent; valid: \\['calibration', 'critic', "),
    ("agent=saycan +agent.policy.lora_rank=4", "agent.policy.lora_rank is not a setting of SayCanAgent"),
    ("algo=poad algo.token_gamma=0", "algo.token_gamma=0.0 is not valid; valid: 0 < token_gamma <= 1"),
    ("algo=poad algo.token_gamma=1.5", "algo.token_gamma=1.5 is not valid"),
    ("algo=poad algo.token_gamma=abc", "algo.token_gamma: Value 'abc' .* could not be converted to Float"),
    ("algo=poad algo.credit=bad", "algo.credit='bad' is not valid; valid: \\['token', 'action'\\]"),
    ("agent=generate_rl algo=ppo", "agent=generate_rl writes its actions and algo .* trains only action indices"),
    ("algo=poad norm=word", "needs norm.mode in \\['trie'\\], got 'word'"),
    ("algo=poad agent=ppo", "trains only agents of .*TwosomeAgent.*agent=ppo is .*MLPAgent"),
    ("algo=poad agent=saycan", "trains only agents of .*agent=saycan is"),
    ("algo=poad agent=random", "trains only agents of .*agent=random is"),
    ("scorer.mode=foo", "scorer.mode='foo' is not valid; valid: \\['shared', 'naive'\\]"),
    ("+scorer.foo=1", "scorer.foo: Key 'foo' not in 'ScorerConfig'; valid keys: \\['mode'\\]"),
    ("+env.num_distractors=-1", "env.num_distractors: Key 'num_distractors' not in 'EnvConfig'"),
    ("+model.revision=main", "model.revision: Key 'revision' not in 'ModelConfig'"),
    ("env=babyai_text +env.kwargs.num_distractors=-1", "env.kwargs .*num_distractors.* -1"),
    ("env=babyai_text +env.kwargs.num_distractors=abc", "env.kwargs .*num_distractors.*abc"),
    ("env=babyai_text +env.kwargs.num_distractors=100", "env.kwargs .*num_distractors.*100"),
    ("env=babyai_text +env.kwargs.action_space=foo", "env.kwargs .*action_space.*foo"),
    (
        "env=babyai_text +env.kwargs.action_space=navigation_3 +env.kwargs.variant=french",
        "env.kwargs .*navigation_3.*french|env.kwargs .*french.*navigation_3",
    ),
    # a network's sizes: refused by the agent's constructor after the run directory was written, or allocated
    ("agent=drrn agent.policy.embedding_dim=-1", "agent.policy.embedding_dim=-1 is not valid; valid: a size >= 1"),
    ("agent=drrn agent.policy.hidden=0", "agent.policy.hidden=0 is not valid; valid: a size >= 1"),
    ("agent=ppo agent.policy.hidden=[64,0]", "agent.policy.hidden=\\[64, 0\\] is not valid; valid: sizes >= 1"),
    ("agent=drrn agent.policy.hidden=100000000", "DRRNAgent: .*hidden=100000000.* weights; valid: at most 1e\\+09"),
]


@pytest.mark.parametrize("overrides,message", LATE_MISTAKES)
def test_mistakes_on_the_newer_keys_are_refused_before_anything_is_written(overrides, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_cfg(*overrides.split()))


def test_a_mistake_in_an_environment_option_writes_nothing_and_imports_no_torch(tmp_path):
    """The environment's options are checked by constructing it once (no model, no torch) before Hydra writes."""
    for overrides in ("agent.policy.lora_layers=999", "env=babyai_text +env.kwargs.num_distractors=100",
                      "agent.policy.trunk_cache_mb=abc"):  # fmt: skip
        code = textwrap.dedent(
            f"""
            import runpy, sys
            sys.argv = ["run.py", *{overrides.split()!r}, "hydra.run.dir={tmp_path / "run"}"]
            try:
                runpy.run_path({str(ROOT / "src" / "run.py")!r}, run_name="__main__")
            except SystemExit as exit_:
                print("EXIT", exit_.code)
            print("HEAVY", sorted(m for m in {HEAVY!r} if m in sys.modules))
            """
        )
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert "EXIT 1" in proc.stdout and "HEAVY []" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "is not valid" in proc.stderr or "num_distractors" in proc.stderr, proc.stderr[-2000:]
        assert not (tmp_path / "run").exists()


def test_every_shipped_environment_and_preset_composes_and_validates():
    """The schemas (twosome.config) hold every key the shipped config groups set."""
    for overrides in (
        [],
        ["env=virtualhome"],
        ["env=babyai_text", "agent=glam", "model=tiny_t5"],
        ["env=overcooked_tomato_lettuce", "agent=saycan"],
        ["algo=poad"],
        ["model=smollm2"],
        ["model=smollm2_random"],
        ["agent=ppo"],
        ["agent=random"],
        ["agent=zeroshot"],
        *[[f"experiment={path.stem}"] for path in sorted((ROOT / "conf" / "experiment").glob("*.yaml"))],
    ):
        validate(compose_cfg(*overrides))


def test_a_model_directory_without_a_tokenizer_says_so(tmp_path):
    """It said "install sentencepiece or tiktoken"."""
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="holds a model config but no tokenizer .*tokenizer.save_pretrained"):
        validate(compose_cfg("model=hf", f"model.path={tmp_path}"))
    validate(compose_cfg("model=hf", f"model.path={tmp_path}", "agent=ppo"))  # reads no text: no model needed


def test_a_budget_that_is_not_whole_updates_is_said():
    cfg = compose_cfg("rollout.total_env_steps=200")  # laptop: 4 envs x 32 steps = 128 per update
    assert run_settings(cfg).rollout.num_updates == 1
    assert budget_note(run_settings(cfg)) == (
        "rollout.total_env_steps=200 is not a multiple of the steps per update "
        "(num_envs x num_steps x processes = 128): running 1 update = 128 env steps (rounded down, as cleanrl and "
        "TWOSOME do)"
    )
    assert budget_note(run_settings(compose_cfg("rollout.total_env_steps=256"))) is None
    # less than one update (GiGPO's long rollouts: 4 envs x 128 steps) is not "rounded down": it runs more
    assert budget_note(run_settings(compose_cfg("algo=gigpo", "rollout.total_env_steps=256"))) == (
        "rollout.total_env_steps=256 is not a multiple of the steps per update (num_envs x num_steps x processes = "
        "512): running 1 update = 512 env steps, more than asked (a run makes at least one update)"
    )


def test_a_damaged_checkpoint_or_summary_names_the_file_and_the_way_out(tmp_path):
    ckpt = tmp_path / "last.ckpt"
    ckpt.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DamagedCheckpoint, match=f"{ckpt} cannot be read .*checkpoint.resume=false"):
        read_run_state(ckpt)
    cfg = compose_cfg()
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (run / "summary.json").write_text("")
    with pytest.raises(ConfigError, match=f"{run / 'summary.json'} cannot be read .*checkpoint.resume=false"):
        prepare_run_dir(run_settings(cfg), run)


def test_a_finished_run_with_deleted_weights_writes_them_again_and_prints_its_summary(
    tmp_path, tiny_model_dir, request
):
    """A finished run whose adapter/ was deleted said "already finished"; re-running printed a raw dict (13)."""
    run = tmp_path / "run"
    shutil.copytree(request.getfixturevalue("uninterrupted"), run)
    args = small_run(tiny_model_dir, run)
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already finished" in again.stdout
    assert "Summary: twosome on twosome/Overcooked-TomatoSalad-v0 (word norm, seed 0) after 192 env" in again.stdout
    assert "{" not in again.stdout  # no raw dict
    summary = json.loads((run / "summary.json").read_text())
    assert summary["saved"] == ["adapter", "critic_head.pt"]
    shutil.rmtree(run / "adapter")
    rewritten = run_cli(*args, cwd=tmp_path)
    assert rewritten.returncode == 0, rewritten.stderr[-2000:]
    assert "its saved weights are missing or damaged (adapter/" in rewritten.stdout
    assert "writing them again from its checkpoint" in rewritten.stdout
    assert json.loads((run / "summary.json").read_text())["weights_digest"] == summary["weights_digest"]
    assert (run / "adapter" / "adapter_model.safetensors").exists()


# --- 11: console noise -------------------------------------------------------------------------------------------
def test_a_run_prints_progress_results_and_its_summary_without_library_noise(tmp_path, tiny_model_dir):
    """`make train` printed a "weights_only was not set" line per checkpoint, a logging-service advertisement,
    Lightning's srun hint, GPU/TPU lines, and without a terminal a progress bar wrapped onto three lines, later one
    drawn only at the run's end."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # srun installed, as on a cluster's login node
    (bin_dir / "srun").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    args = small_run(tiny_model_dir, tmp_path / "run", "checkpoint.every_updates=1")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "src" / "run.py"), NO_SAMPLED_EPISODES, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    for noise in ("weights_only", "litlogger", "srun", "GPU available", "TPU available", "max_epochs=1"):
        assert noise not in out, noise
    # Without a terminal the bar still writes a frame as each update ends (rich drew one, at the run's end)
    frames = [frame for frame in out.splitlines() if frame.startswith("Epoch 0:")]
    counts = {int(m.group(1)) for frame in frames if (m := re.search(r"\| (\d+)/6 \[", frame))}
    assert counts == set(range(7)), frames
    assert all(" ret=" in f and " succ=" in f for f in frames if "| 6/6 [" in f)  # metrics included
    assert "final evaluation: 100%" in proc.stderr  # the evaluation after the last update shows its own progress
    assert "Summary: twosome on twosome/Overcooked-TomatoSalad-v0" in proc.stdout


def test_run_dir_layout_finds_finished_and_trained_runs(tmp_path):
    """The one place that names a run's files: finished runs are those with a summary, trained ones those with a
    peft adapter (and a config), whatever the depth; a directory without a status reads as {}."""
    from twosome.run_dir import RunDir, finished_runs, trained_runs

    done, trained, running = (RunDir(tmp_path / "sweep" / name) for name in ("a", "b", "c"))
    for run in (done, trained, running):
        run.root.mkdir(parents=True)
        run.config.write_text("seed: 0\n")
    done.summary.write_text('{"run_name": "a"}')
    trained.summary.write_text('{"run_name": "b"}')
    trained.adapter.mkdir()
    (trained.adapter / "adapter_config.json").write_text("{}")
    running.checkpoint.parent.mkdir()
    running.checkpoint.write_bytes(b"")
    assert [r.root.name for r in finished_runs(tmp_path)] == ["a", "b"]
    assert [r.root.name for r in finished_runs(done.root)] == ["a"]
    assert [r.root.name for r in trained_runs(tmp_path)] == ["b"]
    assert [r.has_previous_run() for r in (done, trained, running)] == [True, True, True]
    assert not RunDir(tmp_path / "sweep").has_previous_run()
    assert done.read_summary() == {"run_name": "a"} and running.read_status() == {}


def test_the_summary_line_gives_the_sampled_success_beside_the_greedy_one():
    """A seed whose greedy plan loops while its policy's sampled actions succeed read as a failure: every run now
    ends with 100 sampled episodes by default (the tests' helpers skip them), and the line says what each means."""
    from hydra import compose, initialize_config_dir

    from twosome.training.lifecycle import summary_line

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        assert compose("train").eval.final_sampled_episodes == 100  # the main job, as `make train` runs it
    summary = {"agent": "twosome", "env_id": "twosome/Overcooked-TomatoSalad-v0", "norm": "word", "seed": 5,
               "env_steps": 8192, "wall_seconds": 301.0, "eval/episodic_return": 0.104,
               "eval/success_rate": 0.0}  # fmt: skip
    assert summary_line(summary).endswith("greedy eval return 0.104, success rate 0.00")
    line = summary_line({**summary, "sampled/success_rate": 0.99, "sampled/episodes": 100.0})
    assert line.endswith(
        "success rate 0.00; sampled success rate 0.99 over 100 episodes (the greedy plan can loop where actions "
        "sampled from the same policy succeed)"
    )
    agreeing = {**summary, "eval/success_rate": 1.0, "sampled/success_rate": 0.99, "sampled/episodes": 100.0}
    assert summary_line(agreeing).endswith("sampled success rate 0.99 over 100 episodes")
