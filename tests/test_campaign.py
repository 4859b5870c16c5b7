"""experiments/campaign.py: a plan runs as far as a budget goes, a call cut off midway resumes on the next, finished
runs come back packed in a few files of bounded size (--part-mb, --max-parts, --total-mb), and unpack files them as
archive_runs does."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import torch
from helpers import compose_cfg, small_run, sweep_members

from twosome.config import validate

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "experiments"))
import campaign  # noqa: E402

PLANS = sorted((ROOT / "studies").glob("*/plan*.yaml"))
assert PLANS, "no plan under studies/"  # an empty list would skip the tests over every plan


@pytest.mark.parametrize("plan_path", PLANS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_every_planned_job_composes_validates_and_has_its_own_run_name(plan_path):
    plan = campaign.load_plan(plan_path)
    names = set()
    for sweep in plan.sweeps:
        cmd = campaign.command(plan, sweep, Path("/tmp/root"), [])
        jobs = sweep_members(cmd)
        assert len(jobs) * len(sweep.seeds) == sweep.runs
        for job in jobs:
            cfg = compose_cfg(*[o for o in job if not o.startswith("hydra/")])
            validate(cfg)
            # a success claim rests on >= 100 sampled episodes; a writer (agent=generate) decodes by its own rule,
            # greedy or sampled, so its evaluation's episodes are its sample
            episodes = cfg.eval.episodes if cfg.agent.name == "generate" else cfg.eval.final_sampled_episodes
            assert episodes >= 100
            for seed in sweep.seeds:
                key = (sweep.archive, cfg.run_name.replace(f"-s{cfg.seed}", f"-s{seed}"))
                assert key not in names, key
                names.add(key)


def write_plan(tmp_path: Path, model_dir: Path, steps: int = 192, **extra) -> Path:
    runs = [r for r in small_run(model_dir, None, "eval.final_sampled_episodes=2") if not r.startswith("ppo.total")]
    plan = {
        "name": "tiny",
        "common": [r.replace("checkpoint.every_updates=2", "checkpoint.every_updates=1") for r in runs],
        "parallel": 2,
        "sweeps": [
            {
                "name": "word",
                "overrides": ["norm=word", f"rollout.total_env_steps={steps}"],
                "seeds": [0, 1],
                "archive": "camp/tomato_salad",
            },
            {
                "name": "token",
                "overrides": ["norm=token", f"rollout.total_env_steps={steps}"],
                "seeds": [0],
                "archive": "camp/tomato_salad",
            },
        ],  # fmt: skip
        **extra,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(plan))  # JSON is YAML
    return path


def call(plan: Path, root: Path, out: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "experiments" / "campaign.py"), "run", str(plan), "--root", str(root)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    cmd += ["--out", str(out), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def packed_runs(out: Path) -> dict[str, dict]:
    runs = {}
    for part in sorted(out.glob("*.tar.gz")):
        with tarfile.open(part) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            names = tar.getnames()
        for run in manifest["runs"]:
            assert {f"{run['dir']}/{f}" for f in ("config.yaml", "summary.json", "metrics.csv")} <= set(names)
            runs[run["dir"]] = run
    return runs


def test_a_call_cut_off_midway_resumes_on_the_next_and_every_run_comes_back(tiny_model_dir, tmp_path):
    plan = write_plan(tmp_path, tiny_model_dir, steps=640)
    root = tmp_path / "root"
    first = call(plan, root, tmp_path / "out1", "--grace-s", "30")
    deadline = time.monotonic() + 240
    while not list(root.glob("tiny/*/*/checkpoints/last.ckpt")):  # cut off once a run has saved
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)  # killed outright at a time limit: no chance to pack
    first.wait()
    assert not list((tmp_path / "out1").glob("*.tar.gz"))

    second = call(plan, root, tmp_path / "out2")
    output = second.communicate(timeout=600)[0]
    assert second.returncode == 0, output
    statuses = [json.loads(p.read_text()) for p in root.glob("tiny/*/*/status.json")]
    assert len(statuses) == 3 and all(s["status"] == "finished" for s in statuses), statuses
    logs = "".join(p.read_text() for p in root.glob("tiny/*/campaign.log"))
    assert "Resuming" in logs and "from update 0 " not in logs  # the killed call's runs went on from where they saved
    runs = packed_runs(tmp_path / "out2")
    assert len(runs) == 3 and {r["sweep"] for r in runs.values()} == {"word", "token"}
    status = json.loads((tmp_path / "out2" / "tiny-status.json").read_text())
    assert [s["status"] for s in status["sweeps"]] == ["done", "done"]

    # A third call finds nothing to run and nothing new to pack.
    third = call(plan, root, tmp_path / "out3")
    assert third.wait(timeout=120) == 0
    assert not list((tmp_path / "out3").glob("*.tar.gz"))

    data, weights = tmp_path / "data", tmp_path / "weights"
    archived = campaign.unpack(sorted((tmp_path / "out2").glob("*.tar.gz")), data, weights)
    assert sorted(p.name for p in archived) == sorted(
        json.loads(p.read_text())["run_name"] for p in root.glob("tiny/*/*/summary.json")
    )
    for target in archived:
        assert target.parent == data / "camp" / "tomato_salad"
        assert {p.name for p in target.iterdir()} == {"config.yaml", "summary.json", "metrics.csv"}
        assert (weights / "tiny" / target.name / "critic_head.pt").is_file()
        assert list((weights / "tiny" / target.name / "adapter").glob("*.safetensors"))


def test_a_budget_that_runs_out_stops_the_sweeps_and_packs_what_finished(tiny_model_dir, tmp_path):
    plan = write_plan(tmp_path, tiny_model_dir, steps=96000)  # 3,000 updates: more than any budget here holds
    root = tmp_path / "root"
    raw = json.loads(plan.read_text())
    raw["sweeps"][0]["seeds"] = [0]  # one long run to stop; the sweep after it short
    raw["sweeps"][1]["overrides"] = ["norm=token", "rollout.total_env_steps=192"]
    plan.write_text(json.dumps({**raw, "parallel": 1}))
    # long enough for the run to start (and write its status) on a loaded machine
    first = call(plan, root, tmp_path / "out1", "--budget-s", "60", "--grace-s", "12", "--min-start-s", "0")
    output = first.communicate(timeout=300)[0]
    assert first.returncode == 3, output  # runs remain: call again
    assert "stopping 1 sweep(s) on the budget" in output
    status = json.loads((tmp_path / "out1" / "tiny-status.json").read_text())
    assert [s["status"] for s in status["sweeps"]] == ["stopped", "to run"], status
    stopped = [json.loads(p.read_text())["status"] for p in root.glob("tiny/word/*/status.json")]
    assert set(stopped) & {"preempted", "interrupted"}, stopped  # the running one saved, to resume
    assert set(stopped) <= {"finished", "preempted", "interrupted"}, stopped
    assert list(root.glob("tiny/word/*/checkpoints/last.ckpt")), output
    # The next call runs the sweep the budget left unstarted and packs it alone (finishing the stopped run would take
    # minutes; a stopped call's runs resuming is the cut-off test's)
    second = call(plan, root, tmp_path / "out2", "--sweeps", "token")
    output += second.communicate(timeout=600)[0]
    assert second.returncode == 0, output
    assert not packed_runs(tmp_path / "out1")  # nothing had finished
    assert [run["sweep"] for run in packed_runs(tmp_path / "out2").values()] == ["token"], output


def fake_run(plan_dir: Path, sweep: str, name: str, mb: float) -> None:
    run = plan_dir / sweep / name
    (run / "adapter").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"run_name": name}))
    (run / "config.yaml").write_text("seed: 0\n")
    (run / "metrics.csv").write_text("global_step\n0\n")
    (run / "adapter" / "adapter_model.safetensors").write_bytes(os.urandom(int(mb * 2**20)))


def test_packing_keeps_within_the_file_size_limits_and_leaves_the_rest_for_the_next_call(tmp_path):
    limits = campaign.PackLimits(part_mb=2, max_parts=2, total_mb=3)
    plan = campaign.Plan("p", (), 1, (campaign.Sweep("s", (), (0,), "x"),))
    root = tmp_path / "root"
    for i, mb in enumerate([0.9, 0.9, 0.9, 0.9, 2.5]):
        fake_run(root / "p", "s", f"{i}_run", mb)
    ledger = campaign.Ledger(root / "p" / "campaign.json")
    written = campaign.pack(plan, root, tmp_path / "out1", ledger, limits=limits)
    assert len(written) == 2 and all(p.stat().st_size <= 2 * 2**20 for p in written)
    status = json.loads((tmp_path / "out1" / "p-status.json").read_text())
    assert status["over_the_file_limit"] == ["s/4_run (2.5 MiB)"]
    assert status["waiting_for_the_next_pack"] == ["s/3_run"]  # 3 MiB together
    assert set(packed_runs(tmp_path / "out1")) == {"s/0_run", "s/1_run", "s/2_run"}
    written = campaign.pack(
        plan, root, tmp_path / "out2", campaign.Ledger.read(root / "p" / "campaign.json"), limits=limits
    )
    assert set(packed_runs(tmp_path / "out2")) == {"s/3_run"}
    campaign.pack(plan, root, tmp_path / "out3", campaign.Ledger.read(root / "p" / "campaign.json"), True, limits)
    assert len(packed_runs(tmp_path / "out3")) == 3  # everything again, as far as the limits go


@pytest.mark.parametrize(
    "change, message",
    [
        ({"parallel": 0}, "parallel=0 is not valid; valid: an integer >= 1"),
        ({"colour": 1}, "unknown keys ['colour']"),
        ({"sweeps": [{"name": "a", "overrides": [], "seeds": [], "archive": "x"}]}, "seeds=[] is not valid"),
        ({"sweeps": [{"name": "a", "overrides": ["seed=3"], "seeds": [1], "archive": "x"}]}, "give seeds as"),
        ({"sweeps": [{"name": "a", "overrides": [], "seeds": [1], "archive": "../x"}]}, "archive='../x' is not valid"),
        ({"sweeps": [{"name": "a b", "overrides": [], "seeds": [1], "archive": "x"}]}, "name='a b' is not valid"),
        ({"sweeps": [{"name": "a", "seeds": [1], "archive": "x"}]}, "lacks ['overrides']"),
        (
            {"sweeps": [{"name": "a", "overrides": [], "seeds": [1], "archive": "x", "summary_keys": "k"}]},
            "summary_keys='k' is not valid; valid: a list",
        ),
    ],
)
def test_a_bad_plan_is_refused_naming_the_value_before_anything_runs(tmp_path, change, message):
    plan = {"name": "p", "sweeps": [{"name": "a", "overrides": [], "seeds": [0], "archive": "x"}], **change}
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(plan))
    with pytest.raises(campaign.PlanError, match=message.replace("[", r"\[").replace("(", r"\(")):
        campaign.load_plan(path)
    with pytest.raises(SystemExit):
        campaign.main(["run", str(path), "--root", str(tmp_path / "root"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "root").exists() and not (tmp_path / "out").exists()


def local(plan: Path, root: Path, data: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "experiments" / "campaign.py"), "local", str(plan), "--root", str(root)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    cmd += ["--data", str(data), *args]
    data.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_local_runs_each_seed_then_its_after_steps_archives_it_and_a_stopped_call_resumes(tiny_model_dir, tmp_path):
    """The CPU campaign's mode: a job is one seed; it trains, runs its sweep's after steps on the finished run
    (while its weights exist), and is archived. SIGTERM stops the jobs (runs save), the next call resumes them,
    and a call on a finished plan runs nothing."""
    plan = write_plan(tmp_path, tiny_model_dir, steps=384)
    raw = json.loads(plan.read_text())
    raw["sweeps"][0]["after"] = [
        {"name": "seen", "creates": "after/seen.txt",
         "run": "{python} " + str(ROOT / "tests" / "write_marker.py") + " {run} {data}/after/seen.txt {seed}"}
    ]  # fmt: skip
    plan.write_text(json.dumps(raw))
    root, data = tmp_path / "root", tmp_path / "data"
    first = local(plan, root, data, "--grace-s", "60")
    deadline = time.monotonic() + 240
    while not list(root.glob("tiny/*/*/checkpoints/last.ckpt")):
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
        time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    output = first.communicate(timeout=300)[0]
    assert first.returncode == 3 and "stopped" in output, output

    second = local(plan, root, data)
    output = second.communicate(timeout=600)[0]
    assert second.returncode == 0, output
    archived = sorted(p.parent for p in (data / "camp" / "tomato_salad").glob("*/summary.json"))
    assert len(archived) == 3, output
    logs = "".join(p.read_text() for p in root.glob("tiny/*/s*.log"))
    assert "Resuming" in logs  # the stopped call's runs went on from where they saved
    for target in archived:
        seed = json.loads((target / "summary.json").read_text())["seed"]
        marker = target / "after" / "seen.txt"
        if "word" in target.name:  # the word sweep's after step saw its run's directory while it existed
            run, written_seed = marker.read_text().rsplit(":", 1)
            assert int(written_seed) == seed and (root / "tiny" / "word" / f"s{seed}" / "summary.json").is_file()
            assert not Path(run).is_absolute() or str(root) in run
        else:
            assert not marker.exists()
        assert not list(target.rglob(".lock"))
    third = local(plan, root, data)
    output = third.communicate(timeout=120)[0]
    assert third.returncode == 0 and "3/3 jobs done; 0 to run" in output, output
    shutil.rmtree(root)  # a new machine: only the archive was kept (committed); the job's run name finds it there
    fourth = local(plan, root, data)
    output = fourth.communicate(timeout=120)[0]
    assert fourth.returncode == 0 and "3/3 jobs done; 0 to run" in output, output


def test_an_archived_run_without_a_summary_key_the_sweep_asks_for_is_run_again(tmp_path):
    """A metric added to a study after some of its runs were archived: those runs are not done until rerun."""
    from campaign_local import Job

    plan = campaign.Plan("p", (), 1, (campaign.Sweep("a", (), (0,), "x", (), ("generate/lenient_invalid_rate",)),))
    job = Job(plan, plan.sweeps[0], 0, tmp_path / "root", tmp_path / "data")
    job.run_dir.mkdir(parents=True)
    (job.run_dir / "summary.json").write_text(json.dumps({"run_name": "r"}))
    (tmp_path / "data" / "x" / "r").mkdir(parents=True)
    (tmp_path / "data" / "x" / "r" / "summary.json").write_text(json.dumps({"run_name": "r"}))
    assert not job.done()
    summary = {"run_name": "r", "generate/lenient_invalid_rate": 0.5}
    (tmp_path / "data" / "x" / "r" / "summary.json").write_text(json.dumps(summary))
    assert job.done()


def test_status_says_where_each_unfinished_job_here_stands(tmp_path, capsys):
    """A running job's update of the run's and the minutes left at its recent pace; a stopped one's status and that
    the next call resumes it; a trained one's remaining after steps. Running means the PID in its lock is alive."""
    import campaign_local

    plan_path = write_plan(tmp_path, tmp_path / "no-model")
    raw = json.loads(plan_path.read_text())
    raw["sweeps"][1]["after"] = [{"name": "seen", "creates": "after/seen.txt", "run": "{python} -c pass"}]
    plan_path.write_text(json.dumps(raw))
    plan = campaign.load_plan(plan_path)
    root, data = tmp_path / "root", tmp_path / "data"
    data.mkdir()
    config = "rollout:\n  total_env_steps: 640\n  num_envs: 2\n  num_steps: 16\n"  # 20 updates
    metrics = "update,charts/rollout_seconds,charts/update_seconds\n1,100,20\n2,50,10\n3,40,20\n4,30,30\n5,20,40\n"
    word0, word1, token0 = (
        campaign_local.Job(plan, plan.sweeps[i], seed, root, data) for i, seed in ((0, 0), (0, 1), (1, 0))
    )
    for job in (word0, word1, token0):
        job.run_dir.mkdir(parents=True)
        (job.run_dir / "config.yaml").write_text(config)
        (job.run_dir / "metrics.csv").write_text(metrics)
    (word0.run_dir / ".lock").write_text(f"{os.getpid()}\n")  # this process: alive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (word1.run_dir / ".lock").write_text(dead.stdout)  # a process that has ended: its run stopped
    (word1.run_dir / "status.json").write_text(json.dumps({"status": "preempted"}))
    (token0.run_dir / "summary.json").write_text(json.dumps({"run_name": "tiny-token-s0"}))

    assert campaign_local.where_it_stands(word0) == (
        "training: update 5 of 20, 1.0 min per update, about 15 min of training left"  # median of the last 4: 60 s
    )
    assert campaign_local.where_it_stands(word1).startswith("preempted at update 5 of 20, ")
    assert campaign_local.where_it_stands(word1).endswith("the next call resumes it from its last checkpoint")
    assert campaign_local.where_it_stands(token0) == "trained; after step seen to run"
    (word1.run_dir / "status.json").write_text(json.dumps({"status": "running"}))  # SIGKILL: its status says nothing
    assert campaign_local.where_it_stands(word1).startswith("ended without saving its status (killed?) at update 5")
    # All 20 updates done and saved, the final evaluation running (the last update's row waits for it)
    (word0.run_dir / "metrics.csv").write_text(metrics.split("\n", 1)[0] + "\n19,30,30\n")
    (word0.run_dir / "checkpoints").mkdir()
    run_state = pickle.dumps({"updates_done": 20, "env_steps": 640, "final_row": {"update": 20.0}})
    torch.save({"run_state": run_state}, word0.run_dir / "checkpoints" / "last.ckpt")
    assert campaign_local.where_it_stands(word0) == "evaluating: final evaluation, after update 20 of 20"
    # What the job's log says of an evaluation under way (its last tqdm frame), while the log is fresh
    frames = [
        "Epoch 0: 100%|##| 20/20 [20:00<00:00, 60s/it]\n",
        "final evaluation:  6%|#  | 6/108 [01:40<1:05:30, 3.2s/episode]",
        "final evaluation:  7%|#  | 7/108 [01:43<28:10, 3.1s/episode]",
    ]
    (word0.run_dir.parent / "s0.log").write_text("\r".join(frames))
    assert campaign_local.where_it_stands(word0) == (
        "evaluating: final evaluation, after update 20 of 20 (7 of 108 episodes, about 28 min left)"
    )
    frame = "\rgeneralization:  9%|#  | 14/150 [07:15<1:48:16, 21.30s/episode, zeroshot seed 0]"
    (token0.run_dir.parent / "s0.log").write_text(frame)
    assert campaign_local.where_it_stands(token0) == (
        "trained; after step seen to run (generalization: 14 of 150 episodes, about 108 min left)"
    )
    os.utime(token0.run_dir.parent / "s0.log", (time.time() - 600, time.time() - 600))  # its process may be gone
    assert campaign_local.where_it_stands(token0) == "trained; after step seen to run"
    # An evaluation-only run has no updates: it evaluates from its start, and a stopped one starts again
    (token0.run_dir / "summary.json").unlink()
    (token0.run_dir / "config.yaml").write_text(config + "agent:\n  train: false\n")
    assert campaign_local.where_it_stands(token0).startswith("stopped during its evaluation")
    (token0.run_dir / ".lock").write_text(f"{os.getpid()}\n")
    assert campaign_local.where_it_stands(token0).startswith("evaluating: an evaluation-only run")
    campaign.main(["status", str(plan_path), "--root", str(root), "--data", str(data)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "unfinished jobs here:" and [line.split()[0] for line in lines[3:]] == [
        "word/s0",
        "word/s1",
        "token/s0",
    ]


def test_status_counts_the_archive_where_this_machine_has_no_runs(tmp_path, capsys):
    """A new machine starts from what was archived: ``status`` says how many of each sweep's seeds are done there."""
    import campaign_local

    plan_path = write_plan(tmp_path, tmp_path / "no-model")
    plan = campaign.load_plan(plan_path)
    word = plan.sweeps[0]
    name = campaign_local.run_names(plan.common, word.overrides, word.seeds)[1]
    (tmp_path / "data" / word.archive / name).mkdir(parents=True)
    (tmp_path / "data" / word.archive / name / "summary.json").write_text(json.dumps({"run_name": name}))
    campaign.main(["status", str(plan_path), "--root", str(tmp_path / "root"), "--data", str(tmp_path / "data")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["word", "0/2", "runs", "here", "1/2", "archived", "to", "run"]
    assert lines[1].split() == ["token", "0/1", "runs", "here", "0/1", "archived", "to", "run"]


@pytest.mark.parametrize(
    "after, message",
    [
        ("not a list", "after='not a list' is not valid"),
        ([{"name": "x", "run": "echo {nope}"}], "valid: a mapping with name, run, creates"),
        ([{"name": "x", "run": "echo {nope}", "creates": "f"}], "names 'nope'; valid placeholders"),
        ([{"name": "x", "run": "echo", "creates": "/abs/f"}], "valid: a path inside the run's archive"),
    ],
)
def test_bad_after_steps_are_refused_before_anything_runs(tmp_path, after, message):
    plan = write_plan(tmp_path, tmp_path / "no-model")
    raw = json.loads(plan.read_text())
    raw["sweeps"][0]["after"] = after
    plan.write_text(json.dumps(raw))
    with pytest.raises(campaign.PlanError, match=message):
        campaign.load_plan(plan)


def test_a_second_call_on_a_running_plan_is_refused_and_bad_inputs_are_named(tmp_path):
    """One call per plan (a second would run the same jobs and mark them failed); a plan's common list given as a
    string, a damaged ledger and a file that is not a packed campaign are refused with what is wrong."""
    from twosome.fileio import directory_lock

    plan = write_plan(tmp_path, tmp_path / "no-model")
    root = tmp_path / "root"
    (root / "tiny").mkdir(parents=True)
    with directory_lock(root / "tiny", "test"):
        for verb in ("local", "run"):
            args = [verb, str(plan), "--root", str(root)] + (["--out", str(tmp_path / "out")] if verb == "run" else [])
            with pytest.raises(SystemExit, match=r"campaign tiny: .* is in use by process \d+"):
                campaign.main(args)
    raw = json.loads(plan.read_text())
    plan.write_text(json.dumps({**raw, "common": "model=tiny"}))
    with pytest.raises(campaign.PlanError, match="common='model=tiny' is not valid; valid: a list of overrides"):
        campaign.load_plan(plan)
    plan.write_text(json.dumps(raw))
    (root / "tiny" / "campaign.json").write_text("{not json")
    with pytest.raises(SystemExit, match="campaign.json cannot be read .*ledger is damaged"):
        campaign.main(["status", str(plan), "--root", str(root)])
    (tmp_path / "x.tar.gz").write_text("hello")
    with pytest.raises(SystemExit, match="not a packed campaign file .*x.tar.gz"):
        campaign.main(["unpack", str(tmp_path / "x.tar.gz")])
    for verb in ("status", "local", "unpack"):  # a mistyped archive: local would rerun every archived seed
        what = [str(tmp_path / "x.tar.gz")] if verb == "unpack" else [str(plan), "--root", str(tmp_path / "r")]
        args = [verb, *what]
        with pytest.raises(SystemExit, match=r"--data=.*docs/dta: no such folder; valid: the archive of finished runs"):
            campaign.main([*args, "--data", str(tmp_path / "docs" / "dta")])
    assert not (tmp_path / "r").exists() and not (tmp_path / "docs").exists()


def test_sweeps_runs_only_the_sweeps_named_and_refuses_a_name_the_plan_lacks(tmp_path, capsys):
    plan = write_plan(tmp_path, tmp_path / "no-model")
    args = ["local", str(plan), "--root", str(tmp_path / "root"), "--data", str(tmp_path / "data"), "--dry-run"]
    (tmp_path / "data").mkdir()
    campaign.main([*args, "--sweeps", "token"])
    out = capsys.readouterr().out
    assert "token/s0" in out and "word/s" not in out
    with pytest.raises(SystemExit, match="--sweeps salad: not in .*tiny.yaml; valid: word, token"):
        campaign.main([*args, "--sweeps", "token", "salad"])
    assert not (tmp_path / "root").exists()
    with pytest.raises(SystemExit, match="after -- norm=none change what the plan runs"):  # a try-out is refused
        campaign.main([*args[:-1], "--", "trainer.num_threads=1", "norm=none"])
    campaign.main([*args, "--", "trainer.num_threads=1", "checkpoint.every_updates=4"])  # where and how: kept


@pytest.mark.parametrize("verb", ["local", "job", "run"])
@pytest.mark.parametrize("given", ["hydra.run.dir=one/folder", "hydra.sweep.dir=one", "seed=3", "+seed=3"])
def test_a_run_directory_or_seed_after_the_separator_is_refused(tmp_path, verb, given):
    """``-- hydra.run.dir=one/folder`` passed the filter (``hydra.`` keeps the plan): every job wrote one directory,
    and a finished seed was reported failed."""
    plan = write_plan(tmp_path, tmp_path / "no-model")
    where = {"local": [], "job": ["word", "0"], "run": ["--out", str(tmp_path / "out")]}[verb]
    data = [] if verb == "run" else ["--data", str(tmp_path)]
    with pytest.raises(SystemExit, match=f"after -- {re.escape(given)}: the plan sets hydra.run.dir, hydra.sweep"):
        campaign.main([verb, str(plan), *where, "--root", str(tmp_path / "root"), *data, "--", given])
    assert not (tmp_path / "root").exists() and not (tmp_path / "out").exists()


def test_parallel_sets_the_jobs_at_a_time_and_a_bad_value_is_refused_before_anything_runs(tmp_path, monkeypatch):
    """Two plans sharing the cores (one job each) run with --parallel 1; the plan file says its own default."""
    import campaign_local

    plan = write_plan(tmp_path, tmp_path / "no-model")
    seen = []
    monkeypatch.setattr(campaign_local, "run_local", lambda plan, *args: seen.append(plan.parallel) or 0)
    args = ["local", str(plan), "--root", str(tmp_path / "root"), "--data", str(tmp_path / "data")]
    (tmp_path / "data").mkdir()
    campaign.main(args)
    campaign.main([*args, "--parallel", "1"])
    assert seen == [campaign.load_plan(plan).parallel, 1]
    with pytest.raises(SystemExit, match="--parallel=0 is not valid; valid: an integer >= 1"):
        campaign.main([*args[:2], "--root", str(tmp_path / "other"), "--parallel", "0"])
    assert not (tmp_path / "other").exists()


def test_a_job_killed_after_the_grace_of_a_stop_is_stopped_and_only_an_unasked_end_is_a_failure():
    """Past the grace a stopped job is killed while its run finishes the update (and saves): a stop, not a failure.
    The same exit statuses without a stop are failures."""
    from campaign_local import job_status

    assert job_status(0, False) == "done" and job_status(3, True) == "stopped"
    assert job_status(-signal.SIGTERM, True) == "stopped"
    assert job_status(-signal.SIGKILL, True).startswith("stopped (killed after the grace")
    for code in (-signal.SIGKILL, -signal.SIGTERM, 1):
        assert job_status(code, False) == "failed"
    assert job_status(1, True) == "failed"


def test_a_stop_that_reaches_a_job_as_it_starts_is_a_stop_not_a_failure(tiny_model_dir, tmp_path):
    """SIGTERM right after a job starts (before or after the job can catch it): the call reports it stopped and
    returns 3 (call again), never 'failed'."""
    plan = write_plan(tmp_path, tiny_model_dir, steps=384)
    call = local(plan, tmp_path / "root", tmp_path / "data")
    lines = []
    while not lines or "started" not in lines[-1]:
        lines.append(call.stdout.readline())
        assert lines[-1] or call.poll() is None, "".join(lines)
    call.send_signal(signal.SIGTERM)
    output = "".join(lines) + call.communicate(timeout=300)[0]
    assert call.returncode == 3 and "stopped" in output and "failed" not in output, output


@pytest.mark.parametrize(
    "verb, args, message",
    [
        ("local", ["--budget-s", "-5"], r"--budget-s=-5 is not valid; valid: more than --grace-s \(300\)"),
        ("run", ["--budget-s", "30", "--grace-s", "60"], r"--budget-s=30 is not valid; valid: more than --grace-s"),
        ("run", ["--part-mb", "0"], r"--part-mb=0 is not valid; valid: > 0"),
        ("run", ["--max-parts", "0"], r"--max-parts=0 is not valid; valid: >= 1"),
        ("pack", ["--total-mb", "0"], r"--total-mb=0 is not valid; valid: > 0"),  # 0 was taken as no limit
        # nan passed every comparison: the call took the plan's lock and slept until killed
        ("local", ["--budget-s", "nan"], r"--budget-s=nan is not valid; valid: a finite number of seconds"),
        ("local", ["--budget-s", "inf"], r"--budget-s=inf is not valid; valid: a finite number of seconds"),
        ("run", ["--budget-s", "nan"], r"--budget-s=nan is not valid; valid: a finite number of seconds"),
        ("local", ["--grace-s", "nan"], r"--grace-s=nan is not valid; valid: a finite number of seconds >= 0"),
        ("local", ["--grace-s", "-1"], r"--grace-s=-1 is not valid; valid: a finite number of seconds >= 0"),
        ("local", ["--min-start-s=-inf"], r"--min-start-s=-inf is not valid; valid: a finite number of seconds"),
        ("run", ["--min-start-s", "nan"], r"--min-start-s=nan is not valid; valid: a finite number of seconds"),
        ("local", ["--parallel", "0"], r"--parallel=0 is not valid; valid: an integer >= 1"),
        ("local", ["--dry-run", "--budget-s", "nan"], r"--budget-s=nan is not valid"),
    ],
)
@pytest.mark.timeout(120)
def test_a_budget_or_packing_limit_is_refused_before_the_plan_s_folder_is_made(tmp_path, verb, args, message):
    plan = write_plan(tmp_path, tmp_path / "no-model")
    out = ["--out", str(tmp_path / "out")] if verb in ("run", "pack") else []
    with pytest.raises(SystemExit, match=message):
        campaign.main([verb, str(plan), "--root", str(tmp_path / "root"), *out, *args])
    assert not (tmp_path / "root").exists() and not (tmp_path / "out").exists()


def test_a_jobs_commands_run_the_code_of_the_checkout_they_belong_to(tmp_path, monkeypatch):
    """A worktree pinned at a commit shares the main checkout's virtualenv, whose editable install points to the main
    checkout: an after step run as ``python -m twosome...`` imported the main checkout's code, as it was being
    edited, instead of the pinned commit's."""
    from campaign_local import pinned_environment

    worktree = tmp_path / "worktree"
    (worktree / "src" / "twosome").mkdir(parents=True)
    (worktree / "src" / "twosome" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    where = "import twosome; print(twosome.__file__)"
    env = pinned_environment(worktree)
    imported = subprocess.run([sys.executable, "-c", where], env=env, capture_output=True, text=True, check=True)
    assert Path(imported.stdout.strip()) == worktree / "src" / "twosome" / "__init__.py"
    assert env["PYTHONPATH"].split(os.pathsep)[1] == str(tmp_path / "elsewhere")  # the user's path is kept, after it
    installed = subprocess.run([sys.executable, "-c", where], capture_output=True, text=True, check=True)
    assert Path(installed.stdout.strip()) != worktree / "src" / "twosome" / "__init__.py"
