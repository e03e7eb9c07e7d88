//===- EvalCommand.cpp - gemc eval: the reference interpreter ---------------===//

#include "dialects/gemma/interpreter/Interpreter.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

namespace gemc {

llvm::Error runEval(const EvalOptions &options) {
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint);
  if (!model)
    return model.takeError();
  int64_t vocab = model->checkpoint.config().vocabSize;
  llvm::Expected<std::vector<int32_t>> prompt = parseTokenIds(options.tokens, vocab, "--tokens");
  if (!prompt)
    return prompt.takeError();
  auto forward = model->module->lookupSymbol<mlir::func::FuncOp>("forward");
  gemma::Interpreter interpreter(
      forward, [&](llvm::StringRef name) { return model->checkpoint.find(name); });
  auto evaluate = [&](const std::vector<int32_t> &ids) -> llvm::Expected<std::vector<float>> {
    llvm::Expected<gemma::Tensor> logits = interpreter.run(ids);
    if (!logits)
      return logits.takeError();
    return std::move(logits->data);
  };
  return generateGreedy(evaluate, *prompt, options.generate, vocab, options.dumpLogits);
}

} // namespace gemc
