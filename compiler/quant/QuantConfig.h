//===- QuantConfig.h - Which weight gets which format ---------------------===//
//
// A quantization config maps tensor classes (token embedding, LM head, PLE table, PLE
// projections, attention, MLP, MoE router, experts) and tensor-name patterns to weight formats
// (runtime/common/WeightFormat.h). `--quant q4_0` is the config {default: q4_0}; `--quant-config
// FILE` reads one from JSON or YAML:
//
//   default: q4_0                 # every matrix not named below (absent: keep the checkpoint's)
//   classes: {embedding: q8_0, ple_table: q4_0, attention: q8_0}
//   patterns: {"*.layers.0.*": bf16}   # glob on tensor names, first match wins, before classes
//   activations: int8             # quantized matrices multiply int8 activations (default f32)
//
// `activations: int8` (or `--activations int8`) rounds the input of every projection with a
// quantized weight to int8 blocks (WeightFormat.h), so that CPUs use their integer dot
// products; `activations: bf16` rounds the input of every projection with a bf16 weight to
// bf16 (vdpbf16ps). Faster prefill, at the cost of exactness: an activation within float
// rounding of a rounding boundary may land on either side, in the oracle and on each target,
// and an int8 flip moves the logits by far more than 1e-3; with f32 activations (the default)
// artifacts match the oracle to 1e-3.
//
// Only matrices are quantized: norms, scales and other vectors keep the checkpoint's dtype
// whatever the config says.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/WeightFormat.h"
#include "frontends/SafeTensors.h"

#include <llvm/Support/Error.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gemc {

enum class TensorClass {
  Embedding,     // embed_tokens (also the LM head when it is tied)
  LmHead,        // an untied lm_head
  PleTable,      // embed_tokens_per_layer
  PleProjection, // per_layer_model_projection, per_layer_input_gate, per_layer_projection
  Attention,     // q/k/v/o projections
  Mlp,           // gate/up/down projections
  MoeRouter,     // router.proj
  Experts,       // experts.gate_up_proj, experts.down_proj
  None,          // norms, scales: never quantized
};

/// The class of a checkpoint tensor, from its name.
TensorClass classifyTensor(llvm::StringRef name);

struct QuantConfig {
  std::optional<WeightFormat> defaultFormat;
  std::map<TensorClass, WeightFormat> classes;
  std::vector<std::pair<std::string, WeightFormat>> patterns; // in file order
  ActivationFormat activations = ActivationFormat::F32;

  /// `--quant NAME`: every matrix in one format.
  static llvm::Expected<QuantConfig> uniform(llvm::StringRef format);
  /// Parses a JSON or YAML config; errors name `path`, the line and the key.
  static llvm::Expected<QuantConfig> parse(llvm::StringRef text, const std::string &path);
  static llvm::Expected<QuantConfig> load(const std::string &path);

  /// The format `tensor` is stored in, or nullopt to keep the checkpoint's dtype.
  std::optional<WeightFormat> formatFor(const TensorInfo &tensor) const;
};

} // namespace gemc
