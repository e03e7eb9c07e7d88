//===- GenerationConfig.cpp - A checkpoint's generation_config.json -------===//

#include "frontends/GenerationConfig.h"

#include "frontends/JsonFields.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>

namespace gemc {
namespace {

void readStopIds(FieldReader &reader, int64_t vocabSize, std::vector<int64_t> &ids) {
  const llvm::json::Value *value = reader.raw("eos_token_id");
  if (!value)
    return;
  std::vector<const llvm::json::Value *> entries{value};
  if (const llvm::json::Array *list = value->getAsArray()) {
    entries.clear();
    for (const llvm::json::Value &entry : *list)
      entries.push_back(&entry);
  }
  ids.clear();
  for (const llvm::json::Value *entry : entries) {
    std::optional<int64_t> id = entry->getAsInteger();
    if (!id || *id < 0 || *id >= vocabSize)
      return reader.fail(fmt::format("field 'eos_token_id': expected token ids in [0, {}), found {}",
                                     vocabSize, id ? std::to_string(*id) : jsonKind(*entry)));
    ids.push_back(*id);
  }
}

void checkRange(FieldReader &reader, llvm::StringRef key, double value, double low, double high) {
  if (value < low || value > high)
    reader.fail(fmt::format("field '{}': expected a value in [{}, {}], found {}", key.str(), low,
                            high, value));
}

} // namespace

llvm::Expected<GenerationConfig> GenerationConfig::parse(llvm::StringRef json,
                                                         const std::string &path,
                                                         int64_t vocabSize) {
  llvm::Expected<llvm::json::Value> root = parseJsonStrictly(json);
  if (!root)
    return makeError("{}: not valid JSON: {}", path, llvm::toString(root.takeError()));
  const llvm::json::Object *object = root->getAsObject();
  if (!object)
    return makeError("{}: expected a JSON object", path);
  GenerationConfig config;
  std::optional<std::string> error;
  FieldReader reader(*object, path, "", error);
  readStopIds(reader, vocabSize, config.stopIds);
  reader.boolean("do_sample", config.doSample);
  reader.number("temperature", config.temperature);
  reader.integer("top_k", config.topK);
  reader.number("top_p", config.topP);
  reader.number("min_p", config.minP);
  reader.number("repetition_penalty", config.repetitionPenalty);
  checkRange(reader, "temperature", config.temperature, 0, 1e6);
  checkRange(reader, "top_k", double(config.topK), 0, double(vocabSize));
  checkRange(reader, "top_p", config.topP, 0, 1);
  checkRange(reader, "min_p", config.minP, 0, 1);
  checkRange(reader, "repetition_penalty", config.repetitionPenalty, 1e-6, 1e6);
  if (llvm::Error failure = reader.takeError())
    return failure;
  return config;
}

llvm::Expected<GenerationConfig> GenerationConfig::load(const std::string &dir, int64_t vocabSize,
                                                        int64_t eosTokenId) {
  std::string path = dir + "/generation_config.json";
  GenerationConfig config;
  if (llvm::sys::fs::exists(path)) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
    if (!buffer)
      return makeError("{}: cannot open: {}", path, buffer.getError().message());
    llvm::Expected<GenerationConfig> parsed = parse((*buffer)->getBuffer(), path, vocabSize);
    if (!parsed)
      return parsed.takeError();
    config = *parsed;
  }
  if (config.stopIds.empty())
    config.stopIds.push_back(eosTokenId);
  return config;
}

} // namespace gemc
