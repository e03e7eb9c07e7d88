//===- TokenizeCommand.cpp - gemc tokenize ----------------------------------===//
//
// Prints the ids of a text with the tokenizer of a checkpoint directory, a tokenizer.json or
// tokenizer.model, or a compiled artifact (the one its runtime will use).

#include "runtime/common/Error.h"
#include "tools/runner/Generation.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/MemoryBuffer.h>

namespace gemc {

llvm::Error runTokenize(const TokenizeOptions &options) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tokenizer = loadTokenizer(options.path);
  if (!tokenizer)
    return tokenizer.takeError();
  std::string text = options.text;
  if (!options.file.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(options.file);
    if (!buffer)
      return makeError("{}: cannot open: {}", options.file, buffer.getError().message());
    text = (*buffer)->getBuffer().str();
  }
  std::vector<int32_t> ids = (*tokenizer)->encode(text);
  int32_t bos = (*tokenizer)->find("<bos>");
  if (!options.noBos) {
    if (bos < 0)
      return makeError("{}: the tokenizer has no <bos> token (use --no-bos)", options.path);
    ids.insert(ids.begin(), bos);
  }
  printTokenList(ids);
  return llvm::Error::success();
}

} // namespace gemc
