//===- Common.cpp - Pieces the gemc subcommands share -----------------------===//

#include "tools/gemc/Common.h"

#include "frontends/TokenizerImport.h"
#include "runtime/Artifact.h"
#include "runtime/common/Error.h"
#include "tools/runner/Generation.h"

namespace gemc {

llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag) {
  std::vector<int32_t> ids;
  std::string error;
  if (!parseTokenList(text, vocabSize, flag, ids, error))
    return makeError("{}", error);
  return ids;
}

namespace {

llvm::Expected<std::string> tokenizerModel(const std::string &path) {
  if (!MappedArtifact::looksLikeArtifact(path))
    return importTokenizer(path);
  std::string error;
  std::unique_ptr<MappedArtifact> artifact = MappedArtifact::open(path, error, false);
  if (!artifact)
    return makeError("{}", error);
  std::string_view model = artifact->tokenizerModel();
  if (model.empty())
    return makeError("{}: the artifact has no tokenizer (its checkpoint had none)", path);
  return std::string(model);
}

} // namespace

llvm::Expected<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string &path) {
  llvm::Expected<std::string> model = tokenizerModel(path);
  if (!model)
    return model.takeError();
  std::string error;
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(*model, error);
  if (!tokenizer)
    return makeError("{}: {}", path, error);
  return tokenizer;
}

} // namespace gemc
