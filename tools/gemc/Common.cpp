//===- Common.cpp - Pieces the gemc subcommands share -----------------------===//

#include "tools/gemc/Common.h"

#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/CpuPipeline.h"
#include "compiler/quant/AssignWeightFormats.h"
#include "frontends/Error.h"
#include "tools/runner/Generation.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/raw_ostream.h>
#include <mlir/IR/Diagnostics.h>
#include <mlir/IR/Verifier.h>

#include <algorithm>

namespace gemc {

llvm::Expected<LoadedModel> loadModel(const std::string &dir, const QuantOptions &quant) {
  std::optional<QuantConfig> config;
  if (!quant.format.empty() || !quant.configFile.empty()) {
    llvm::Expected<QuantConfig> parsed = quant.format.empty()
                                             ? QuantConfig::load(quant.configFile)
                                             : QuantConfig::uniform(quant.format);
    if (!parsed)
      return parsed.takeError();
    config = std::move(*parsed);
  }
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
  if (config)
    assignWeightFormats(*module, *checkpoint, *config);
  if (failed(mlir::verify(*module)))
    return makeError("{}: the imported module does not verify (a gemc bug):{}", dir, diagnostics);
  return LoadedModel{std::move(*checkpoint), std::move(context), std::move(module)};
}

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
  std::vector<int32_t> ids;
  std::string error;
  if (!parseTokenList(text, vocabSize, flag, ids, error))
    return makeError("{}", error);
  return ids;
}

} // namespace gemc
