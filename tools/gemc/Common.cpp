//===- Common.cpp - Pieces the gemc subcommands share -----------------------===//

#include "tools/gemc/Common.h"

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

} // namespace gemc
