"""Campaigns: a plan of sweeps run as far as a time budget goes and resumed by the next call: on a time-limited or
preemptible allocation, or a laptop in the evenings. ``local`` runs the plan's jobs here, two at a time (the usual
way on a workstation); ``run`` runs whole sweeps and packs what finished for copying back from a remote machine.

    python experiments/campaign.py local studies/smollm2_cpu/plan.yaml --budget-s 9000
    python experiments/campaign.py local studies/poad/plan.yaml --sweeps tomato_salad-poad_trie
    python experiments/campaign.py run studies/smollm2_gpu/plan.yaml --budget-s 540 --out "$OUT"
    python experiments/campaign.py status studies/smollm2_cpu/plan.yaml   (runs here, in the archive, and
                                                         where each unfinished job here stands)
    python experiments/campaign.py unpack <where the packed files came back>/*.tar.gz

A plan (a study's ``studies/<name>/plan*.yaml``) lists sweeps of ``src/run.py``: each its name, its overrides (Hydra
syntax, comma lists sweep), its seeds and the folder its raw data goes to, under the data/ folder beside the plan
(optionally ``after`` steps run
on each finished run, and ``summary_keys`` an archived run's summary must hold to count as done); ``common``
overrides go to every sweep, ``parallel`` sweeps run at a time. ``run`` starts the sweeps in plan order into
``multirun/campaigns/<plan>/<sweep>``, and when the budget is nearly spent (or on SIGTERM, SIGHUP, Ctrl-C) stops
them: each run saves at the end of its update. The next call on the same machine resumes them (finished runs are
kept, stopped ones resume from their checkpoints) and goes on down the plan. Every call ends by packing the runs that
finished since the last pack (config, summary, metrics, status, log, adapter, critic head) into gzipped tar files
under ``--out``, plus a status file. ``--part-mb`` bounds each file, and ``--max-parts`` and ``--total-mb`` (none by
default) what one call packs, for a transfer that limits file count or size (an upload cap, a job's output staging);
over a slow link a failed copy is redone one part at a time. Runs that do not fit wait for the next call.
``unpack`` copies each run's raw data into its study's data/<archive>/<run_name>/ as ``analysis/archive_runs.py`` does,
and its weights into ``artifacts/campaigns/<plan>/<run_name>/`` (ignored by git: at 2 MB per SmolLM2 adapter,
committed weights would soon make the repository slow to clone or to copy to another machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This checkout's code, not the one a shared virtualenv's editable install points to (a worktree pinned at a commit).
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "analysis")]
from archive_runs import archive  # noqa: E402

from twosome import run_dir as layout  # noqa: E402
from twosome.fileio import DirectoryInUse, atomic_write_text, directory_lock  # noqa: E402
from twosome.processes import attached_child, clock, supervise  # noqa: E402

sys.path.insert(0, str(ROOT / "experiments"))
from campaign_plan import (  # noqa: E402, F401  (the plan's names, as campaign.X for the verbs and the tests)
    KEEPS_THE_PLAN,
    NAME,
    PLAN_OWNS,
    Plan,
    PlanError,
    Sweep,
    after_steps,
    check_passthrough,
    load_plan,
    only_sweeps,
)

RUN_FILES = (layout.CONFIG, layout.SUMMARY, layout.METRICS, layout.STATUS, layout.LOG, layout.CRITIC_HEAD)
RUN_DIRS = (layout.ADAPTER,)
WEIGHTS = layout.WEIGHTS


@dataclass(frozen=True)
class PackLimits:
    """What one call packs to copy back (``pack``): files of at most ``part_mb`` MiB, at most ``max_parts`` of them
    and ``total_mb`` MiB together (None: no limit). Runs that do not fit wait for the next call."""

    part_mb: float = 100
    max_parts: int | None = None
    total_mb: float | None = None

    def __post_init__(self):
        for flag, value, ok, valid in [
            ("--part-mb", self.part_mb, self.part_mb > 0, "> 0"),
            ("--max-parts", self.max_parts, self.max_parts is None or self.max_parts >= 1, ">= 1"),
            ("--total-mb", self.total_mb, self.total_mb is None or self.total_mb > 0, "> 0"),
        ]:
            if not ok:
                raise PlanError(f"{flag}={value:g} is not valid; valid: {valid} (or leave it out)")


def command(plan: Plan, sweep: Sweep, root: Path, extra: list[str]) -> list[str]:
    seeds = ",".join(map(str, sweep.seeds))
    sweep_dir = plan.sweep_dir(root, sweep)
    return [sys.executable, str(ROOT / "src" / "run.py"), "-m", *plan.common, *sweep.overrides, f"seed={seeds}",
            f"hydra.sweep.dir={sweep_dir}", *extra]  # fmt: skip


# --- the ledger: what is done and what was packed, kept beside the runs ---------------------------------------------
@dataclass
class Ledger:
    path: Path
    sweeps: dict[str, dict] = field(default_factory=dict)  # name -> {"status", "returncode", "calls"}
    packed: list[str] = field(default_factory=list)  # run directories (relative to the plan's) already packed

    @classmethod
    def read(cls, path: Path) -> Ledger:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            return cls(path, dict(data["sweeps"]), list(data["packed"]))
        except (ValueError, KeyError, TypeError) as err:
            raise SystemExit(
                f"{path} cannot be read ({type(err).__name__}: {err}): the campaign's ledger is damaged; move it away "
                "and rerun (finished runs are found again; runs already packed are packed again)"
            ) from None

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps({"sweeps": self.sweeps, "packed": self.packed}, indent=1))


def finished_runs(sweep_dir: Path) -> list[Path]:
    """Run directories of a sweep that hold a summary.json (a finished run)."""
    return sorted(p.parent for p in sweep_dir.glob(f"*/{layout.SUMMARY}"))


def progress(plan: Plan, root: Path, ledger: Ledger) -> list[dict]:
    rows = []
    for sweep in plan.sweeps:
        done = len(finished_runs(plan.sweep_dir(root, sweep)))
        status = ledger.sweeps.get(sweep.name, {}).get("status", "to run")
        rows.append({"sweep": sweep.name, "status": status, "runs_finished": done, "runs": sweep.runs})
    return rows


def archived(plan: Plan, root: Path, data: Path) -> dict[str, int]:
    """Per sweep whose jobs are its seeds (as ``local`` runs them), how many are done in the archive under ``data``:
    the record a new machine starts from, where ``multirun/`` holds only this machine's runs."""
    import campaign_local  # experiments/ (this script's directory) is on sys.path

    jobs = campaign_local.jobs_of(plan, root, data)
    return {s.name: sum(j.done() for j in jobs if j.sweep is s) for s in plan.sweeps if s.runs == len(s.seeds)}


def print_progress(rows: list[dict], in_archive: dict[str, int] | None = None) -> None:
    width = max(len(r["sweep"]) for r in rows)
    for r in rows:
        line, state = f"  {r['sweep']:<{width}}  {r['runs_finished']:>3}/{r['runs']:<3} runs here", r["status"]
        if in_archive is not None:
            count = in_archive.get(r["sweep"])
            cell = "" if count is None else f"{count:>3}/{r['runs']:<3} archived"
            line += f"  {cell:<16}"  # a sweep the archive cannot count (comma lists) keeps the columns aligned
            state = "done" if count == r["runs"] else state
        print(f"{line}  {state}", flush=True)


def print_jobs_here(plan: Plan, root: Path, data: Path) -> None:
    """The unfinished jobs of ``local`` that have a run directory on this machine, each where it stands."""
    import campaign_local

    lines = [(job.name, campaign_local.where_it_stands(job)) for job in campaign_local.jobs_of(plan, root, data)]
    lines = [(name, line) for name, line in lines if line]
    if lines:
        width = max(len(name) for name, _ in lines)
        print("unfinished jobs here:")
        for name, line in lines:
            print(f"  {name:<{width}}  {line}", flush=True)


def start_sweep(plan: Plan, sweep: Sweep, root: Path, extra: list[str]) -> tuple[subprocess.Popen, object]:
    """Start one sweep, its output appended to ``<sweep dir>/campaign.log``; it ends if this process is killed."""
    sweep_dir = plan.sweep_dir(root, sweep)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    log = open(sweep_dir / "campaign.log", "a")  # noqa: SIM115 (closed when the sweep ends)
    cmd = command(plan, sweep, root, extra)
    log.write(f"\n$ {' '.join(cmd[1:])}\n")
    log.flush()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=attached_child())
    return proc, log


# --- running ---------------------------------------------------------------------------------------------------------
def run(plan: Plan, root: Path, out: Path, budget_s: float, grace_s: float, min_start_s: float, extra: list[str],
        retry_failed: bool = False, limits: PackLimits = PackLimits()) -> int:  # fmt: skip
    """Run the plan's unfinished sweeps until they end or the budget is nearly spent; pack; return 0 when the plan
    is complete, 3 when runs remain (call again), 1 when a sweep failed."""
    start = time.monotonic()
    deadline = start + budget_s - grace_s
    ledger = Ledger.read(root / plan.name / "campaign.json")
    todo = [
        s for s in plan.sweeps
        if ledger.sweeps.get(s.name, {}).get("status") != "done"
        and (retry_failed or ledger.sweeps.get(s.name, {}).get("status") != "failed")
    ]  # fmt: skip
    logs: dict[str, object] = {}

    def begin(sweep: Sweep) -> subprocess.Popen:
        proc, logs[sweep.name] = start_sweep(plan, sweep, root, extra)
        entry = ledger.sweeps.setdefault(sweep.name, {"calls": 0})
        entry.update(status="running", calls=entry["calls"] + 1)
        print(f"{clock(start)} {sweep.name}: started ({sweep.runs} runs)", flush=True)
        return proc

    def ended(sweep: Sweep, proc: subprocess.Popen, stopped: bool) -> None:
        logs.pop(sweep.name).close()
        done = len(finished_runs(plan.sweep_dir(root, sweep)))
        status = "done" if proc.returncode == 0 else "stopped" if stopped else "failed"
        ledger.sweeps[sweep.name].update(status=status, returncode=proc.returncode)
        print(f"{clock(start)} {sweep.name}: {status} (exit {proc.returncode}), {done}/{sweep.runs} runs finished",
              flush=True)  # fmt: skip

    try:  # each run saves at the end of its update when its sweep is told to stop
        supervise(todo, begin, ended, plan.parallel, deadline, grace_s / 2, min_start_s,
                  name=lambda s: s.name, tick=ledger.write, what="sweep(s)")  # fmt: skip
    finally:
        ledger.write()
    pack(plan, root, out, ledger, limits=limits)
    rows = progress(plan, root, ledger)
    print_progress(rows)
    if any(r["status"] == "failed" for r in rows):
        print("a sweep failed: its campaign.log and sweep_summary.csv say why; --retry-failed runs it again")
        return 1
    return 0 if all(r["status"] == "done" for r in rows) else 3


# --- packing and unpacking -------------------------------------------------------------------------------------------
def run_members(run_dir: Path) -> list[Path]:
    files = [run_dir / f for f in RUN_FILES if (run_dir / f).is_file()]
    files += [p for d in RUN_DIRS for p in sorted((run_dir / d).rglob("*")) if p.is_file()]
    overrides = run_dir / ".hydra" / "overrides.yaml"
    return files + ([overrides] if overrides.is_file() else [])


def pack(plan: Plan, root: Path, out: Path, ledger: Ledger, repack: bool = False,
         limits: PackLimits = PackLimits()) -> list[Path]:  # fmt: skip
    """Pack finished runs not packed before into gzipped tars under ``out``, within ``limits``, and write
    ``<plan>-status.json``; return the files written. A run over a part's size is named and left."""
    part, total_limit = limits.part_mb * 2**20, (limits.total_mb or float("inf")) * 2**20
    max_parts = limits.max_parts or float("inf")
    plan_dir = root / plan.name
    out.mkdir(parents=True, exist_ok=True)
    packed = set() if repack else set(ledger.packed)
    parts: list[list[tuple[Sweep, Path]]] = [[]]
    sizes, total, too_big, waiting = [0], 0, [], []
    for sweep in plan.sweeps:
        for run_dir in finished_runs(plan.sweep_dir(root, sweep)):
            rel = str(run_dir.relative_to(plan_dir))
            if rel in packed:
                continue
            size = sum(p.stat().st_size for p in run_members(run_dir))  # gzip makes it no larger, near enough
            if size > part:
                too_big.append(f"{rel} ({size / 2**20:.1f} MiB)")
                continue
            if sizes[-1] + size > part and len(parts) < max_parts:
                parts.append([])
                sizes.append(0)
            if sizes[-1] + size > part or total + size > total_limit:
                waiting.append(rel)
                continue
            parts[-1].append((sweep, run_dir))
            sizes[-1] += size
            total += size
    written = []
    for k, members in enumerate(p for p in parts if p):
        target = out / f"{plan.name}-part{k}.tar.gz"
        manifest = {"plan": plan.name, "runs": []}
        tmp = target.with_name(f".{target.name}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            for sweep, run_dir in members:
                rel = run_dir.relative_to(plan_dir)
                for f in run_members(run_dir):
                    tar.add(f, arcname=str(rel / f.relative_to(run_dir)))
                manifest["runs"].append({"dir": str(rel), "sweep": sweep.name, "archive": sweep.archive})
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tmp.replace(target)
        written.append(target)
        ledger.packed += [m["dir"] for m in manifest["runs"] if m["dir"] not in ledger.packed]
    ledger.write()
    status = {
        "plan": plan.name,
        "sweeps": progress(plan, root, ledger),
        "packed_now": [str(p.name) for p in written],
        "waiting_for_the_next_pack": waiting,
        "over_the_file_limit": too_big,
    }
    atomic_write_text(out / f"{plan.name}-status.json", json.dumps(status, indent=1))
    runs = sum(len(p) for p in parts)
    print(f"packed {runs} finished run(s) into {len(written)} file(s) under {out}"
          + (f"; {len(waiting)} wait for the next call" if waiting else "")
          + (f"; too large to bring back: {too_big}" if too_big else ""), flush=True)  # fmt: skip
    return written


def study_data(plan_name: str) -> Path:
    """The data folder of the study whose plan has this name: where a packed run of that plan is unpacked."""
    for path in sorted(ROOT.glob("studies/*/plan*.yaml")):
        if load_plan(path).name == plan_name:
            return path.parent / "data"
    raise SystemExit(f"no plan named {plan_name!r} under studies/: give --data, the folder its runs go to")


def unpack(tars: list[Path], data_root: Path | None, weights_root: Path) -> list[Path]:
    """Each packed run's raw data into ``data_root/<archive>/<run_name>/`` (archive_runs's format; by default the
    data folder beside the plan that packed it) and its weights into ``weights_root/<plan>/<run_name>/``; return the
    archived directories."""
    missing = [str(t) for t in tars if not t.is_file()]
    if missing:
        raise SystemExit(f"no such file: {', '.join(missing)}")
    not_tars = [str(t) for t in tars if not tarfile.is_tarfile(t)]
    if not_tars:
        raise SystemExit(f"not a packed campaign file (a tar archive from `campaign.py pack`): {', '.join(not_tars)}")
    done = []
    for tar_path in tars:
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(tar_path) as tar:
            tar.extractall(tmp, filter="data")
            manifest = json.loads((Path(tmp) / "manifest.json").read_text())
            into = data_root or study_data(manifest["plan"])
            for run in manifest["runs"]:
                run_dir = Path(tmp) / run["dir"]
                target = archive(run_dir, into / run["archive"])
                weights = weights_root / manifest["plan"] / target.name
                for name in WEIGHTS:
                    source = run_dir / name
                    if source.is_dir():
                        shutil.copytree(source, weights / name, dirs_exist_ok=True)
                    elif source.is_file():
                        weights.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(source, weights / name)
                done.append(target)
        print(f"{tar_path.name}: {len(manifest['runs'])} run(s) into {into}", flush=True)
    return done


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in ("run", "status", "pack", "local", "job"):
        p = sub.add_parser(verb)
        p.add_argument("plan", type=Path)
        p.add_argument("--root", type=Path, default=ROOT / "multirun" / "campaigns", help="where sweeps run")
        p.add_argument("--dry-run", action="store_true", help="run: print the commands")
        p.add_argument("--sweeps", nargs="+", metavar="NAME", help="only these sweeps of the plan (default: all)")
    for p in (sub.choices["run"], sub.choices["pack"]):
        p.add_argument("--out", type=Path, required=True, help="where the packed files go (the folder to copy back)")
        p.add_argument("--part-mb", type=float, default=100, help="MiB per packed file at most")
        p.add_argument("--max-parts", type=int, default=None, help="packed files per call at most (default: any)")
        p.add_argument("--total-mb", type=float, default=None, help="MiB per call at most (default: any)")
    sub.choices["pack"].add_argument("--repack", action="store_true", help="every finished run, packed before or not")
    r = sub.choices["run"]
    r.add_argument("--budget-s", type=float, default=540, help="seconds this call may take, packing included")
    r.add_argument("--grace-s", type=float, default=60, help="kept for stopping sweeps (runs save) and packing")
    r.add_argument("--min-start-s", type=float, default=60, help="no sweep starts with less time than this left")
    r.add_argument("--retry-failed", action="store_true")
    loc = sub.choices["local"]
    loc.add_argument("--budget-s", type=float, default=3 * 3600, help="seconds this call may take")
    loc.add_argument("--grace-s", type=float, default=300, help="kept for stopping jobs (runs save at an update)")
    loc.add_argument("--min-start-s", type=float, default=600, help="no job starts with less time than this left")
    loc.add_argument("--parallel", type=int, help="jobs at a time (default: the plan's); two plans may share cores")
    job = sub.choices["job"]
    job.add_argument("sweep")
    job.add_argument("seed", type=int)
    for p in (loc, job, sub.choices["status"]):
        p.add_argument("--data", type=Path, help="where finished runs are archived (default: data/ beside the plan)")
    u = sub.add_parser("unpack")
    u.add_argument("tars", nargs="+", type=Path)
    u.add_argument("--data", type=Path, help="default: data/ beside the plan named in the packed files")
    u.add_argument("--weights", type=Path, default=ROOT / "artifacts" / "campaigns")
    args = parser.parse_args(argv)
    if getattr(args, "data", None) is not None and not args.data.is_dir():  # a typo would rerun what is archived
        raise SystemExit(f"--data={args.data}: no such folder; valid: the archive of finished runs, an existing folder "
                         f"(default: data/ beside the plan)")  # fmt: skip
    if args.verb == "unpack":
        unpack(args.tars, args.data, args.weights)
        return 0
    try:
        plan = only_sweeps(load_plan(args.plan), args.sweeps)
        if hasattr(args, "data") and args.data is None:  # a study's runs go into its own folder
            args.data = plan.path.parent / "data"
        if args.verb in ("run", "local", "job"):
            check_passthrough(extra, args.verb)
        if getattr(args, "parallel", None) is not None:  # how many at a time, not what runs: the plan is the same
            if args.parallel < 1:
                raise PlanError(f"--parallel={args.parallel} is not valid; valid: an integer >= 1")
            plan = dataclasses.replace(plan, parallel=args.parallel)
        limits = check_limits(args)
    except PlanError as e:
        raise SystemExit(str(e)) from None
    if args.verb in ("run", "local") and not args.dry_run:  # one call per plan: a second would run the same jobs
        args.root.joinpath(plan.name).mkdir(parents=True, exist_ok=True)
        way_out = "wait for it to end or stop it (SIGTERM: its runs save); give this call another --root to run both"
        try:
            with directory_lock(args.root / plan.name, way_out):
                return run_verb(args, plan, extra, limits)
        except DirectoryInUse as err:
            raise SystemExit(f"campaign {plan.name}: {err}") from None
    return run_verb(args, plan, extra, limits)


def check_limits(args: argparse.Namespace) -> PackLimits | None:
    """The call's time budget and packing limits (returned for the verbs that pack), refused before the plan's
    folder or lock is made."""
    if args.verb in ("run", "local"):  # nan passes every comparison: the call took the lock and slept for ever
        for flag, value in (("--grace-s", args.grace_s), ("--min-start-s", args.min_start_s)):
            if not (math.isfinite(value) and value >= 0):
                raise PlanError(f"{flag}={value:g} is not valid; valid: a finite number of seconds >= 0")
        if not math.isfinite(args.budget_s):
            raise PlanError(f"--budget-s={args.budget_s:g} is not valid; valid: a finite number of seconds, more "
                            f"than --grace-s ({args.grace_s:g})")  # fmt: skip
    if args.verb in ("run", "local") and not args.dry_run and args.budget_s <= args.grace_s:
        raise PlanError(f"--budget-s={args.budget_s:g} is not valid; valid: more than --grace-s ({args.grace_s:g})")
    if args.verb in ("run", "pack"):
        return PackLimits(args.part_mb, args.max_parts, args.total_mb)
    return None


def run_verb(args: argparse.Namespace, plan: Plan, extra: list[str], limits: PackLimits | None) -> int:
    if args.verb in ("local", "job"):
        import campaign_local  # experiments/ (this script's directory) is on sys.path

        if args.verb == "job":
            return campaign_local.job_main(plan, args.root, args.data, args.sweep, args.seed, extra)
        if args.dry_run:
            campaign_local.dry_run(plan, args.root, args.data, extra)
            return 0
        return campaign_local.run_local(plan, args.root, args.data, args.budget_s, args.grace_s, args.min_start_s,
                                        extra, Path(__file__).resolve())  # fmt: skip
    ledger = Ledger.read(args.root / plan.name / "campaign.json")
    if args.verb == "status":
        print_progress(progress(plan, args.root, ledger), archived(plan, args.root, args.data))
        print_jobs_here(plan, args.root, args.data)
        return 0
    if args.dry_run:
        for sweep in plan.sweeps:
            print(" ".join(command(plan, sweep, args.root, extra)[1:]))
        print_progress(progress(plan, args.root, ledger))
        return 0
    if args.verb == "pack":
        pack(plan, args.root, args.out, ledger, repack=args.repack, limits=limits)
        return 0
    return run(plan, args.root, args.out, args.budget_s, args.grace_s, args.min_start_s, extra, args.retry_failed,
               limits)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
