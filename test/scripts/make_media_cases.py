#!/usr/bin/env python3
"""More tiny multimodal cases (test/data/media-cases/), made with Hugging Face transformers through
../shared/tools/refgen/make_tiny_multimodal.py and checked with its independent numpy
implementation (np_multimodal_check.py).

make_tiny_multimodal.py makes refdata/vision-tiny and audio-tiny: one seed, a 70-token image
budget, two fixed images (96x128, 600x300), 2.025 s of audio. Each case here changes what its
table row says: the seed, the processor's image budget, the images' sizes and drawings, the
audio's length, the vision tower's standardization. Everything else (the model, the prompt, the
references it records) is that script's, called unchanged with those functions replaced.

Needs the venv make_tiny_multimodal.py names (torch, torchvision, pillow, numpy, transformers
5.23.0):
    hf-venv/bin/python test/scripts/make_media_cases.py ../shared/tools/refgen test/data/media-cases

Each case keeps what gemc's tests read (the checkpoint, the processor and tokenizer files, the
inputs, input_ids.i32, the projected soft tokens, the merged embeddings, the PLE inputs and the
logits); the other stage files are checked by np_multimodal_check.py here and left out, to keep
the repository small.
"""
import importlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np

CASES = {
    # budget 140 (1260 patches); a tiny square image (upscaled 24x) and a 1:5 wide one
    "vision-b140": dict(kind="vision", seed=7, budget=140, images=[(17, 17), (180, 900)]),
    # budget 280; odd sizes, one portrait near the budget's edge; pooled tokens standardized
    "vision-b280-std": dict(kind="vision", seed=9, budget=280, images=[(333, 127), (64, 300)],
                            standardize=True),  # numpy checks it up to the pooling
    # 5 s of audio and 77 samples (not a multiple of 128): many attention chunks
    "audio-5s": dict(kind="audio", seed=11, samples=16000 * 5 + 77),
    # 0.19 s: fewer frames than one attention chunk
    "audio-short": dict(kind="audio", seed=13, samples=3001),
}

# The stages after the standardization of the pooled tokens, which np_multimodal_check.py
# does not model: transformers alone is their reference.
STANDARDIZED_STAGES = {"vision_pooled", "vision_embeds", "inputs_embeds"}

KEPT = {"config.json", "generation_config.json", "model.safetensors", "processor_config.json",
        "tokenizer.json", "tokenizer_config.json", "manifest.json", "tolerances.json",
        "input_ids.i32", "inputs_embeds.f32", "per_layer_inputs.f32", "logits.f32",
        "vision_embeds.f32", "audio_embeds.f32", "audio.wav", "image_0.png", "image_1.png"}


def drawing(height, width, seed):
    """An RGB uint8 image: a smooth gradient, stripes and a few disks, from `seed`."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    period = rng.uniform(6, 40)
    image = np.stack([255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1),
                      128 + 100 * np.sin(2 * np.pi * (x + y) / period)], -1)
    for _ in range(4):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = rng.uniform(0.1, 0.4) * min(height, width)
        image[(y - cy) ** 2 + (x - cx) ** 2 < radius ** 2] = rng.integers(0, 256, 3)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def patch(tool, case):
    """Replaces the tool's inputs, budget and vision config with the case's."""
    from PIL import Image
    import transformers

    if "images" in case:
        tool.make_images = lambda: [Image.fromarray(drawing(h, w, case["seed"] * 10 + i), "RGB")
                                    for i, (h, w) in enumerate(case["images"])]
    if "samples" in case:
        original_audio = tool.make_audio
        tool.make_audio = lambda: original_audio(n=case["samples"])
    budget = case.get("budget", 70)
    original_processor = tool.build_processor
    tool.build_processor = lambda tokdir, _: original_processor(tokdir, budget)
    pil = transformers.models.gemma4.Gemma4ImageProcessorPil
    transformers.Gemma4ImageProcessorPil = lambda **_: pil(max_soft_tokens=budget)
    original_vision = tool.vision_config
    def vision_config():
        config = original_vision()
        config["standardize"] = case.get("standardize", False)
        return config
    tool.vision_config = vision_config
    if case.get("standardize"):
        original_randomize = tool.randomize
        def randomize(model, gen):  # HF initializes the standardization as the identity
            original_randomize(model, gen)
            tower = model.model.vision_tower
            tower.std_bias.normal_(0.0, 2.0, generator=gen)
            tower.std_scale.uniform_(0.5, 1.5, generator=gen)
        tool.randomize = randomize


def fix_metadata(out, name, case):
    """The tool records its own budget and generator line; write the case's."""
    path = os.path.join(out, "manifest.json")
    manifest = json.load(open(path))
    manifest["generator"] = f"test/scripts/make_media_cases.py, case {name}: {json.dumps(case)}"
    if case["kind"] == "vision":
        manifest["inputs"]["max_soft_tokens"] = case["budget"]
        manifest["inputs"]["max_patches"] = case["budget"] * 9
    manifest["files"] = {f: v for f, v in manifest["files"].items() if f in KEPT}
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)


def main():
    refgen, out_root = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(CASES)
    sys.path.insert(0, refgen)
    check = importlib.import_module("np_multimodal_check")
    for name in names:
        case = CASES[name]
        tool = importlib.reload(importlib.import_module("make_tiny_multimodal"))
        patch(tool, case)
        work = tempfile.mkdtemp(prefix=name + ".")
        made = os.path.join(work, name)
        meta, tol, _ = tool.make_case(case["kind"], made, case["seed"])
        check.FAILED.clear()
        (check.vision if case["kind"] == "vision" else check.audio)(made)
        if case.get("standardize"):  # the numpy code does not standardize: it stops before
            check.FAILED[:] = [f for f in check.FAILED if f not in STANDARDIZED_STAGES]
        if check.FAILED:
            raise SystemExit(f"{name}: numpy disagrees with transformers: {check.FAILED}")
        out = os.path.join(out_root, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for f in sorted(os.listdir(made)):
            if f in KEPT:
                shutil.copy(os.path.join(made, f), out)
        fix_metadata(out, name, case)
        shutil.rmtree(work)
        print(f"{name}: {meta['seq_len']} ids, inputs {json.dumps(meta['inputs'])}, "
              f"f32 vs f64 logits {tol['logits']['max_abs']:.1e}; numpy agrees within 1e-4"
              + (" up to the pooling" if case.get("standardize") else ""))


if __name__ == "__main__":
    main()
