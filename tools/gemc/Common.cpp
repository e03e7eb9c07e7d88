//===- Common.cpp - Pieces the gemc subcommands share -----------------------===//

#include "tools/gemc/Common.h"

#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/CpuPipeline.h"
#include "frontends/Error.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/raw_ostream.h>
#include <mlir/IR/Diagnostics.h>
#include <mlir/IR/Verifier.h>

#include <fmt/ranges.h>

#include <algorithm>

namespace gemc {

llvm::Expected<LoadedModel> loadModel(const std::string &dir) {
  llvm::Expected<Checkpoint> checkpoint = Checkpoint::open(dir);
  if (!checkpoint)
    return checkpoint.takeError();
  if (std::string note = checkpoint->unusedSummary(); !note.empty())
    llvm::errs() << note << "\n";
  mlir::DialectRegistry registry;
  registerCpuPipelineDialects(registry);
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

llvm::Error runtimeError() { return makeError("{}", gemc_last_error()); }

llvm::Error writeFile(const std::string &path, llvm::StringRef bytes) {
  llvm::Error error = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << bytes;
    return llvm::Error::success();
  });
  if (error)
    return makeError("{}: cannot write: {}", path, llvm::toString(std::move(error)));
  return llvm::Error::success();
}

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

llvm::Error generateGreedy(const Evaluate &evaluate, const std::vector<int32_t> &prompt,
                           int64_t count, int64_t vocab, const std::string &dumpPath) {
  std::vector<float> dump;
  std::vector<int32_t> generated;
  std::vector<int32_t> next = prompt;
  for (int64_t step = 0;; ++step) {
    llvm::Expected<std::vector<float>> logits = evaluate(next);
    if (!logits)
      return logits.takeError();
    dump.insert(dump.end(), logits->begin(), logits->end());
    if (step == count)
      break;
    const float *last = logits->data() + logits->size() - vocab;
    generated.push_back(int32_t(std::max_element(last, last + vocab) - last));
    if (step + 1 == count) // the last generated token is not fed back
      break;
    next = {generated.back()};
  }
  llvm::outs() << fmt::format("{}\n", fmt::join(generated, ","));
  if (dumpPath.empty())
    return llvm::Error::success();
  return writeFile(dumpPath, llvm::StringRef(reinterpret_cast<const char *>(dump.data()),
                                             dump.size() * sizeof(float)));
}

} // namespace gemc
