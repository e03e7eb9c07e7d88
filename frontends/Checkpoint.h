//===- Checkpoint.h - A Hugging Face Gemma 4 checkpoint directory --------===//
//
// Opens config.json and the safetensors weights (one file, or shards listed by
// model.safetensors.index.json), memory-mapped and zero-copy, and checks every tensor the config
// implies for presence, dtype and shape before anything runs. Tensors the text model does not
// read (vision and audio towers, leftover K/V weights of KV-shared layers) are listed, not fatal.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontends/ModelWeights.h"
#include "frontends/SafeTensors.h"
#include "frontends/TextConfig.h"

#include <llvm/ADT/StringMap.h>

namespace gemc {

class Checkpoint {
public:
  static llvm::Expected<Checkpoint> open(const std::string &dir);
  /// A checkpoint of config.json alone (gemc compile --synthetic-weights): every tensor the
  /// config implies, as bf16, without data.
  static llvm::Expected<Checkpoint> openSynthetic(const std::string &dir);
  bool synthetic() const { return !syntheticTensors_.empty(); }

  const std::string &dir() const { return dir_; }
  const TextConfig &config() const { return config_; }
  const MediaConfig &media() const { return media_; }
  const ModelWeights &weights() const { return weights_; }
  /// A tensor of the checkpoint; nullptr if there is none of that name.
  const TensorInfo *find(llvm::StringRef name) const;
  /// Checkpoint tensors the text model does not read, sorted by name.
  const std::vector<std::string> &unusedTensors() const { return unused_; }
  /// Reads every weight the text model uses and fails on the first NaN or infinity (gemc eval;
  /// gemc compile checks each piece as it writes it, reading the checkpoint once).
  llvm::Error checkWeightsFinite() const;
  /// One line for people about the unused tensors, or "" if there are none.
  std::string unusedSummary() const;

private:
  /// The directory and its config.json, no weights yet.
  static llvm::Expected<Checkpoint> openConfig(const std::string &dir);
  llvm::Error loadWeightFiles();
  llvm::Error addFile(const std::string &path, const std::string &source);
  llvm::Error checkAgainstConfig();

  std::string dir_;
  TextConfig config_;
  MediaConfig media_;
  ModelWeights weights_;
  std::vector<std::unique_ptr<SafeTensorsFile>> files_;
  std::vector<TensorInfo> syntheticTensors_;
  llvm::StringMap<const TensorInfo *> tensors_;
  std::vector<std::string> unused_;
};

} // namespace gemc
