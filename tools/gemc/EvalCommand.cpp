//===- EvalCommand.cpp - gemc eval: the reference interpreter ---------------===//

#include "dialects/gemma/interpreter/Interpreter.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"
#include "runtime/common/Error.h"
#include "tools/runner/Generation.h"

namespace gemc {

llvm::Error runEval(const EvalOptions &options) {
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint, options.quant);
  if (!model)
    return model.takeError();
  if (llvm::Error error = model->checkpoint.checkWeightsFinite())
    return error;
  int64_t vocab = model->checkpoint.config().vocabSize;
  llvm::Expected<std::vector<int32_t>> prompt = parseTokenIds(options.tokens, vocab, "--tokens");
  if (!prompt)
    return prompt.takeError();
  auto forward = model->module->lookupSymbol<mlir::func::FuncOp>("forward");
  gemma::Interpreter interpreter(
      forward, [&](llvm::StringRef name) { return viewOf(model->checkpoint.find(name)); });
  auto evaluate = [&](const std::vector<int32_t> &ids, std::vector<float> &rows,
                      std::string &error) {
    llvm::Expected<gemma::Tensor> logits = interpreter.run(ids);
    if (!logits) {
      error = llvm::toString(logits.takeError());
      return false;
    }
    rows.insert(rows.end(), logits->data.begin(), logits->data.end());
    return true;
  };
  std::vector<int32_t> generated;
  std::vector<float> logits;
  std::string error;
  Sampler greedy({});
  if (!generateTokens(evaluate, *prompt, options.generate, vocab, greedy, generated, logits,
                      error) ||
      (!options.dumpLogits.empty() && !writeLogits(options.dumpLogits, logits, error)))
    return makeError("{}", error);
  printTokenList(generated);
  return llvm::Error::success();
}

} // namespace gemc
