//===- Checkpoint.cpp - A Hugging Face Gemma 4 checkpoint directory -------===//

#include "frontends/Checkpoint.h"

#include "runtime/common/Error.h"
#include "frontends/JsonFields.h"

#include <llvm/ADT/StringSet.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Regex.h>

#include <algorithm>
#include <map>
#include <set>

namespace gemc {
namespace {

constexpr size_t kMaxListedProblems = 10;

std::string join(const std::string &dir, llvm::StringRef name) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

/// An index's weight_map: tensor name -> shard file name.
using WeightMap = std::map<std::string, std::string, std::less<>>;

llvm::Expected<WeightMap> readWeightMap(const std::string &indexPath) {
  auto buffer = llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!buffer)
    return makeError("{}: cannot open: {}", indexPath, buffer.getError().message());
  llvm::Expected<llvm::json::Value> json = parseJsonStrictly((*buffer)->getBuffer());
  if (!json)
    return makeError("{}: not valid JSON: {}", indexPath, llvm::toString(json.takeError()));
  const llvm::json::Object *map =
      json->getAsObject() ? json->getAsObject()->getObject("weight_map") : nullptr;
  if (!map)
    return makeError("{}: field 'weight_map' is missing or not an object", indexPath);
  WeightMap weightMap;
  for (const auto &[tensor, file] : *map) {
    std::optional<llvm::StringRef> name = file.getAsString();
    if (!name || name->empty() || name->contains('/') || name->contains('\\') || *name == ".." ||
        *name == ".")
      return makeError("{}: field 'weight_map.{}' must be a plain file name in the checkpoint "
                       "directory",
                       indexPath, tensor.str());
    weightMap.emplace(tensor.str(), name->str());
  }
  return weightMap;
}

} // namespace

llvm::Expected<Checkpoint> Checkpoint::openConfig(const std::string &dir) {
  if (!llvm::sys::fs::is_directory(dir))
    return makeError("{}: not a checkpoint directory", dir);
  Checkpoint ckpt;
  ckpt.dir_ = dir;
  llvm::Expected<TextConfig> config = TextConfig::load(join(dir, "config.json"));
  if (!config)
    return config.takeError();
  ckpt.config_ = std::move(*config);
  llvm::Expected<MediaConfig> media = MediaConfig::load(dir, ckpt.config_.vocabSize);
  if (!media)
    return media.takeError();
  ckpt.media_ = std::move(*media);
  return ckpt;
}

llvm::Expected<Checkpoint> Checkpoint::open(const std::string &dir) {
  llvm::Expected<Checkpoint> opened = openConfig(dir);
  if (!opened)
    return opened.takeError();
  Checkpoint &ckpt = *opened;
  if (llvm::Error error = ckpt.loadWeightFiles())
    return error;
  bool multimodal = llvm::any_of(ckpt.tensors_, [](const auto &entry) {
    return entry.getKey().starts_with("model.language_model.");
  });
  ckpt.weights_ =
      planModelWeights(ckpt.config_, ckpt.media_, multimodal ? "model.language_model." : "model.");
  if (llvm::Error error = ckpt.checkAgainstConfig())
    return error;
  return opened;
}

llvm::Expected<Checkpoint> Checkpoint::openSynthetic(const std::string &dir) {
  static const std::string kSource = "synthetic weights";
  llvm::Expected<Checkpoint> opened = openConfig(dir);
  if (!opened)
    return opened.takeError();
  Checkpoint &ckpt = *opened;
  ckpt.weights_ = planModelWeights(ckpt.config_, ckpt.media_, "model.language_model.");
  ckpt.weights_.forEach([&](const TensorSpec &spec) {
    TensorInfo tensor{spec.name, DType::BF16, spec.shape};
    tensor.numBytes = uint64_t(tensor.numElements()) * 2;
    tensor.file = &kSource;
    ckpt.syntheticTensors_.push_back(std::move(tensor));
  });
  for (const TensorInfo &tensor : ckpt.syntheticTensors_) // the vector no longer grows
    ckpt.tensors_.try_emplace(tensor.name, &tensor);
  return opened;
}

llvm::Error Checkpoint::loadWeightFiles() {
  std::string indexPath = join(dir_, "model.safetensors.index.json");
  if (!llvm::sys::fs::exists(indexPath)) {
    std::string single = join(dir_, "model.safetensors");
    if (!llvm::sys::fs::exists(single))
      return makeError("{}: no model.safetensors or model.safetensors.index.json", dir_);
    return addFile(single, single);
  }
  llvm::Expected<WeightMap> weightMap = readWeightMap(indexPath);
  if (!weightMap)
    return weightMap.takeError();
  std::set<std::string> shards;
  for (const auto &entry : *weightMap)
    shards.insert(entry.second);
  for (const std::string &shard : shards)
    if (llvm::Error error = addFile(join(dir_, shard), indexPath))
      return error;
  // The index and the shards must agree: a tensor listed under one shard but stored in
  // another, or stored but not listed, means a damaged or mixed-up checkpoint.
  for (const auto &[name, shard] : *weightMap)
    if (const TensorInfo *tensor = find(name); !tensor || *tensor->file != join(dir_, shard))
      return makeError("{}: puts tensor '{}' in {}, but {}", indexPath, name, shard,
                       tensor ? "it is in " + *tensor->file : std::string("no shard has it"));
  for (const auto &entry : tensors_)
    if (!weightMap->count(entry.getKey()))
      return makeError("{}: does not list tensor '{}' of {}", indexPath, entry.getKey().str(),
                       *entry.getValue()->file);
  return llvm::Error::success();
}

llvm::Error Checkpoint::addFile(const std::string &path, const std::string &source) {
  if (!llvm::sys::fs::exists(path))
    return makeError("{}: names the shard '{}', which does not exist", source, path);
  llvm::Expected<std::unique_ptr<SafeTensorsFile>> file = SafeTensorsFile::open(path);
  if (!file)
    return file.takeError();
  for (const TensorInfo &tensor : (*file)->tensors()) {
    auto [it, inserted] = tensors_.try_emplace(tensor.name, &tensor);
    if (!inserted)
      return makeError("{}: tensor '{}' is also in {}", path, tensor.name, *it->second->file);
  }
  files_.push_back(std::move(*file));
  return llvm::Error::success();
}

const TensorInfo *Checkpoint::find(llvm::StringRef name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

llvm::Error Checkpoint::checkWeightsFinite() const {
  llvm::Error error = llvm::Error::success();
  weights_.forEach([&](const TensorSpec &spec) {
    if (const TensorInfo *tensor = find(spec.name); !error)
      error = checkFinite(*tensor, 0, tensor->numElements());
  });
  return error;
}

llvm::Error Checkpoint::checkAgainstConfig() {
  std::vector<std::string> problems;
  llvm::StringSet<> used;
  weights_.forEach([&](const TensorSpec &spec) {
    used.insert(spec.name);
    const TensorInfo *tensor = find(spec.name);
    if (!tensor)
      problems.push_back(fmt::format("missing tensor '{}' (expected shape {})", spec.name,
                                     formatShape(spec.shape)));
    else if (!isWeightDType(tensor->dtype))
      problems.push_back(fmt::format("{}: tensor '{}' has dtype {}; gemc reads BF16, F16 or F32",
                                     *tensor->file, spec.name, dtypeName(tensor->dtype)));
    else if (tensor->shape != spec.shape)
      problems.push_back(fmt::format("{}: tensor '{}' has shape {} but config.json implies {}",
                                     *tensor->file, spec.name, tensor->shapeString(),
                                     formatShape(spec.shape)));
  });
  for (const auto &entry : tensors_)
    if (!used.contains(entry.getKey()))
      unused_.push_back(entry.getKey().str());
  std::sort(unused_.begin(), unused_.end());
  if (problems.empty())
    return llvm::Error::success();
  if (problems.size() == 1)
    return makeError("{}: the weights do not match config.json: {}", dir_, problems[0]);
  std::string message = fmt::format("{}: the weights do not match config.json ({} problems):",
                                    dir_, problems.size());
  for (size_t i = 0; i < problems.size() && i < kMaxListedProblems; ++i)
    message += "\n  " + problems[i];
  if (problems.size() > kMaxListedProblems)
    message += fmt::format("\n  ... and {} more", problems.size() - kMaxListedProblems);
  return makeError("{}", message);
}

std::string Checkpoint::unusedSummary() const {
  if (unused_.empty())
    return "";
  // Group text tensors by name with the layer index starred, and towers by their first two
  // name components ("model.vision_tower").
  std::map<std::string, size_t> groups;
  static const llvm::Regex layerIndex("\\.layers\\.[0-9]+\\.");
  for (const std::string &name : unused_) {
    llvm::StringRef ref(name);
    if (ref.starts_with(weights_.prefix)) {
      groups[layerIndex.sub(".layers.*.", name)]++;
      continue;
    }
    auto [first, rest] = ref.split('.');
    groups[(first + "." + rest.split('.').first).str()]++;
  }
  std::string text = fmt::format("note: {} tensor{} in {} not used by the text model:",
                                 unused_.size(), unused_.size() == 1 ? "" : "s", dir_);
  for (const auto &[group, count] : groups)
    text += fmt::format(" {} ({}),", group, count);
  text.pop_back();
  return text;
}

} // namespace gemc
