//===- GenerationConfig.h - A checkpoint's generation_config.json ---------===//
//
// The stop ids and sampling defaults a checkpoint recommends. They travel in the artifact so
// that `gemc chat` and compiled executables behave as the model's authors intended without the
// checkpoint. Absent fields take the Transformers GenerationConfig defaults; without the file,
// the stop ids are config.json's eos_token_id and decoding is greedy.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace gemc {

struct GenerationConfig {
  std::vector<int64_t> stopIds; // eos_token_id: one id or a list
  bool doSample = false;
  double temperature = 1.0;
  int64_t topK = 50;
  double topP = 1.0;
  double minP = 0.0;
  double repetitionPenalty = 1.0;

  static llvm::Expected<GenerationConfig> parse(llvm::StringRef json, const std::string &path,
                                                int64_t vocabSize);
  /// Reads `dir`/generation_config.json if there is one; `eosTokenId` (config.json) otherwise.
  static llvm::Expected<GenerationConfig> load(const std::string &dir, int64_t vocabSize,
                                               int64_t eosTokenId);
};

} // namespace gemc
