# lit configuration for gemc. Tests are .mlir and .test files under test/ (not test/unit or
# test/data). Substitutions:
#   gemc, gemc-opt      the tools under test
#   %data               test/data (refdata cases and fixtures)
#   %python             the Python running lit
#   %ckpt_tool          test/scripts/ckpt_tool.py: copies checkpoints and breaks them on purpose
#   %compare_logits     test/scripts/compare_logits.py: a logits dump against a reference case
#   %json_tool          test/scripts/json_tool.py: a JSON file with one value changed
#   %decode_ids         test/scripts/decode_ids.py: token ids to text, independently of gemc
#   %encode_ids         test/scripts/encode_ids.py: text to token ids, independently of gemc
#   %dequantize_ckpt    test/scripts/dequantize_ckpt.py: a checkpoint as a weight format stores it
#   %compare_dumps      test/scripts/compare_dumps.py: two logits dumps and token lists
#   %compare_tensor     test/scripts/compare_tensor.py: a float32 file against (rows of) a reference
#   %check_quant        test/scripts/check_quant.py: quantized artifacts against gemc eval --quant
#   %check_explore      test/scripts/check_explore.py: a quant-explore report recomputed with numpy
#   %eval_media_case    test/scripts/eval_media_case.py: gemc eval on a multimodal case against its logits
#   %examples           examples/ (programs that use gemc's outputs)
#   %cc                 a C compiler for them (with the sanitizers of this build)
import os
import lit.formats

config.name = "gemc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.join(config.gemc_src_root, "test")
config.test_exec_root = os.path.join(config.gemc_obj_root, "test")
config.excludes = ["unit", "data", "scripts", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in"]

# FileCheck, not and count live in LLVM's tool directory, which is not on PATH on Debian.
config.environment["PATH"] = os.pathsep.join(
    [config.gemc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
for var in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

python = lit_config.params.get("python", None) or __import__("sys").executable
data = os.path.join(config.gemc_src_root, "test", "data")
config.substitutions.append(("%data", data))
config.substitutions.append(("%python", python))
config.substitutions.append(
    ("%ckpt_tool", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "ckpt_tool.py")))
config.substitutions.append(
    ("%json_tool", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "json_tool.py")))
config.substitutions.append(
    ("%decode_ids", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "decode_ids.py")))
for script in ("encode_ids", "dequantize_ckpt", "compare_dumps", "compare_tensor", "check_quant",
               "check_explore", "eval_media_case"):
    config.substitutions.append(
        ("%" + script, python + " " + os.path.join(config.gemc_src_root, "test", "scripts", script + ".py")))
config.substitutions.append(("%examples", os.path.join(config.gemc_src_root, "examples")))
sanitize = config.gemc_sanitize == "address"
if sanitize:
    config.available_features.add("asan")
config.substitutions.append(
    ("%cc", "cc -O1 -Wall -Werror" + (" -fsanitize=address,undefined" if sanitize else "")))
config.substitutions.append(
    ("%compare_logits", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "compare_logits.py")))

# Artifacts for x86-64-v4 run only where the CPU has AVX-512 (they are still compiled and
# disassembled everywhere).
try:
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if " avx512f" in flags and " avx512bw" in flags and " avx512vl" in flags:
        config.available_features.add("avx512")
    if " avx512_bf16" in flags:  # vdpbf16ps: `host` artifacts use it for bf16 activations
        config.available_features.add("avx512bf16")
    if " avx2" in flags and " fma" in flags:
        config.available_features.add("avx2")
except OSError:
    pass
config.substitutions.append(
    ("%artifact_tool", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "artifact_tool.py")))

# vulkan artifacts run where the Vulkan loader and Mesa's CPU driver (lavapipe) are installed
# (scripts/setup installs both); the "no Vulkan" checks need only gemc.
import ctypes
import glob
try:
    ctypes.CDLL("libvulkan.so.1")
    config.available_features.add("vulkan-loader")
    if glob.glob("/usr/share/vulkan/icd.d/lvp_icd.*.json"):
        config.available_features.add("vulkan")
except OSError:
    pass
config.substitutions.append(
    ("%validate_spirv", python + " " + os.path.join(config.gemc_src_root, "test", "scripts", "validate_spirv.py")))

# aarch64-neon artifacts run under qemu-aarch64 with the cross-built runtime (gemc-run-aarch64).
if os.path.exists("/usr/bin/qemu-aarch64-static") and os.path.exists(
        os.path.join(config.gemc_tools_dir, "gemc-run-aarch64")):
    config.available_features.add("qemu-aarch64")
    config.substitutions.append(
        ("%gemc_run_aarch64", "qemu-aarch64-static -L /usr/aarch64-linux-gnu " +
         os.path.join(config.gemc_tools_dir, "gemc-run-aarch64")))
