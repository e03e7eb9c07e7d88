//===- TextConfigFuzzer.cpp - Fuzzes config.json and generation_config.json -===//
//
// The input is parsed as both files, and config.json's tower fields too. A config that parses
// must derive every layer's spec and tensor shapes without tripping a sanitizer (layer types,
// KV sharing, RoPE and MoE fields are cross-checked by the parser; LayerSpec trusts them).

#include "frontends/GenerationConfig.h"
#include "frontends/ModelWeights.h"
#include "frontends/TextConfig.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef json(reinterpret_cast<const char *>(data), size);
  int64_t vocab = 262144;
  if (auto config = gemc::TextConfig::parse(json, "config.json")) {
    for (int64_t layer = 0; layer < config->numLayers; ++layer)
      (void)config->layer(layer);
    vocab = config->vocabSize;
  } else {
    llvm::consumeError(config.takeError());
  }
  if (auto media = gemc::MediaConfig::parse(json, "config.json", vocab)) {
    gemc::TextConfig text; // no decoder layers: only the towers' tensors are planned
    (void)gemc::planModelWeights(text, *media, "model.language_model.");
  } else {
    llvm::consumeError(media.takeError());
  }
  if (auto generation = gemc::GenerationConfig::parse(json, "generation_config.json", vocab);
      !generation)
    llvm::consumeError(generation.takeError());
  return 0;
}
