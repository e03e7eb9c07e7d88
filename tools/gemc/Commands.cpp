//===- Commands.cpp - The subcommands of gemc -------------------------------===//

#include "tools/gemc/Commands.h"

#include "compiler/import/ImportCheckpoint.h"
#include "dialects/gemma/GemmaDialect.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "frontends/Error.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/raw_ostream.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/IR/Diagnostics.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/Verifier.h>

#include <fmt/ranges.h>

namespace gemc {
namespace {

/// An open checkpoint and its verified gemma module.
struct LoadedModel {
  Checkpoint checkpoint;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

llvm::Expected<LoadedModel> loadModel(const std::string &dir) {
  llvm::Expected<Checkpoint> checkpoint = Checkpoint::open(dir);
  if (!checkpoint)
    return checkpoint.takeError();
  if (std::string note = checkpoint->unusedSummary(); !note.empty())
    llvm::errs() << note << "\n";
  mlir::DialectRegistry registry;
  gemma::registerModuleDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();

  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(context.get(), [&](mlir::Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << "\n  " << diag.getLocation() << ": " << diag.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(*context, *checkpoint);
  if (failed(mlir::verify(*module)))
    return makeError("{}: the imported module does not verify (a gemc bug):{}", dir, diagnostics);
  return LoadedModel{std::move(*checkpoint), std::move(context), std::move(module)};
}

/// Writes `bytes` to `path` through a temporary file and a rename: never a partial file.
llvm::Error writeFile(const std::string &path, llvm::StringRef bytes) {
  llvm::Error error = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << bytes;
    return llvm::Error::success();
  });
  if (error)
    return makeError("{}: cannot write: {}", path, llvm::toString(std::move(error)));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, ',');
  std::vector<int32_t> ids;
  for (size_t i = 0; i < parts.size(); ++i) {
    llvm::StringRef part = parts[i].trim();
    uint64_t id = 0;
    if (part.getAsInteger(10, id))
      return makeError("{}: entry {} ('{}') is not a token id", flag, i, part.str());
    if (id >= uint64_t(vocabSize))
      return makeError("{}: token id {} (entry {}) is outside the vocabulary [0, {})", flag, id,
                       i, vocabSize);
    ids.push_back(int32_t(id));
  }
  return ids;
}

llvm::Error runCompile(const CompileOptions &options) {
  if (options.emit != "mlir")
    return makeError("--emit {}: this build writes only --emit mlir; native artifacts come with "
                     "the CPU backend",
                     options.emit);
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint);
  if (!model)
    return model.takeError();
  std::string text;
  llvm::raw_string_ostream os(text);
  model->module->print(os);
  return writeFile(options.output, text);
}

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
  std::vector<float> dump;
  std::vector<int32_t> generated;
  // Evaluates `ids`, appends their logits to the dump, and returns the greedy next token.
  auto evaluate = [&](llvm::ArrayRef<int32_t> ids) -> llvm::Expected<int32_t> {
    llvm::Expected<gemma::Tensor> logits = interpreter.run(ids);
    if (!logits)
      return logits.takeError();
    dump.insert(dump.end(), logits->data.begin(), logits->data.end());
    return int32_t(gemma::argmax(logits->row(logits->rows() - 1), vocab));
  };
  llvm::Expected<int32_t> next = evaluate(*prompt);
  for (int64_t i = 0; next && i < options.generate; ++i) {
    generated.push_back(*next);
    if (i + 1 < options.generate) // the last generated token is not fed back
      next = evaluate(generated.back());
  }
  if (!next)
    return next.takeError();
  llvm::outs() << fmt::format("{}\n", fmt::join(generated, ","));
  if (options.dumpLogits.empty())
    return llvm::Error::success();
  return writeFile(options.dumpLogits,
                   llvm::StringRef(reinterpret_cast<const char *>(dump.data()),
                                   dump.size() * sizeof(float)));
}

} // namespace gemc
