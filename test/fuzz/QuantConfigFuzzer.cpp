//===- QuantConfigFuzzer.cpp - Fuzzes --quant-config files -----------------===//
//
// The input is a JSON or YAML quantization config; one that parses is asked for the format of
// tensors of every class, so its glob patterns run too.

#include "compiler/quant/QuantConfig.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto config = gemc::QuantConfig::parse(text, "quant.yaml");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  gemc::TensorInfo tensor;
  tensor.dtype = gemc::DType::BF16;
  tensor.shape = {64, 64};
  for (const char *name :
       {"model.language_model.embed_tokens.weight", "model.language_model.layers.0.mlp.gate_proj.weight",
        "model.language_model.layers.3.self_attn.q_proj.weight", "model.language_model.norm.weight",
        "model.language_model.embed_tokens_per_layer.weight",
        "model.language_model.layers.1.experts.down_proj"}) {
    tensor.name = name;
    (void)config->formatFor(tensor);
  }
  return 0;
}
