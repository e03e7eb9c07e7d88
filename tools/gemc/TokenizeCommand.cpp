//===- TokenizeCommand.cpp - gemc tokenize ----------------------------------===//
//
// Prints the ids of a text with the tokenizer of a checkpoint directory, a tokenizer.json or
// tokenizer.model, or a compiled artifact (the one its runtime will use).

#include "runtime/common/Error.h"
#include "frontends/TokenizerImport.h"
#include "runtime/Artifact.h"
#include "tools/runner/Generation.h"
#include "runtime/Tokenizer.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/MemoryBuffer.h>

namespace gemc {
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

llvm::Error runTokenize(const TokenizeOptions &options) {
  llvm::Expected<std::string> model = tokenizerModel(options.path);
  if (!model)
    return model.takeError();
  std::string error;
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(*model, error);
  if (!tokenizer)
    return makeError("{}: {}", options.path, error);
  std::string text = options.text;
  if (!options.file.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(options.file);
    if (!buffer)
      return makeError("{}: cannot open: {}", options.file, buffer.getError().message());
    text = (*buffer)->getBuffer().str();
  }
  std::vector<int32_t> ids = tokenizer->encode(text);
  int32_t bos = tokenizer->find("<bos>");
  if (!options.noBos) {
    if (bos < 0)
      return makeError("{}: the tokenizer has no <bos> token (use --no-bos)", options.path);
    ids.insert(ids.begin(), bos);
  }
  printTokenList(ids);
  return llvm::Error::success();
}

} // namespace gemc
