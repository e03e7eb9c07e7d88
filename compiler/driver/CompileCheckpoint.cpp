//===- CompileCheckpoint.cpp - A checkpoint compiled, as a library call ------===//
//
// checkpoint -> gemma module -> (memory plans) -> LLVM dialect -> object -> shared object ->
// artifact. `emit` stops early: mlir (the gemma module), llvm (the LLVM-dialect module), obj
// (the target's relocatable object, for disassembly); exe puts the runner program in front of
// the artifact, making one self-contained executable; lib writes a static library, its C
// header and the artifact beside them, from the same object code as the artifact's.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/CompileCheckpoint.h"

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/LibraryWriter.h"
#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/CpuPipeline.h"
#include "compiler/quant/AssignWeightFormats.h"
#include "frontends/GenerationConfig.h"
#include "frontends/TokenizerImport.h"
#include "runtime/Tokenizer.h"
#include "runtime/common/Error.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/IR/Diagnostics.h>
#include <mlir/IR/Verifier.h>

#include <chrono>

namespace gemc {
namespace {

std::string printed(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

/// The E-series (with per-layer embeddings) and the large models ship different chat templates
/// (gemma4-architecture.md §6).
std::string chatTemplateFor(const TextConfig &config) {
  return config.hasPle() ? "gemma4" : "gemma4-large";
}

/// The checkpoint's tokenizer as a SentencePiece model, or "" (with a note) if it has none. Its
/// ids must fit the model's vocabulary (a smaller tokenizer is fine: embeddings get padded).
llvm::Expected<std::string> checkpointTokenizer(const std::string &dir, int64_t vocabSize) {
  if (hasTokenizer(dir)) {
    llvm::Expected<std::string> model = importTokenizer(dir);
    std::string error;
    std::unique_ptr<Tokenizer> tokenizer =
        model && Tokenizer::available() ? Tokenizer::load(*model, error) : nullptr;
    if (tokenizer && tokenizer->size() > vocabSize)
      return makeError("{}: the tokenizer has {} tokens but config.json's vocab_size is {}", dir,
                       tokenizer->size(), vocabSize);
    return model;
  }
  llvm::errs() << fmt::format("note: {} has no tokenizer.json or tokenizer.model; the artifact "
                              "will take token ids only (--tokens)\n",
                              dir);
  return "";
}

/// The runner program an executable for `target` starts with: gemc-run (or its aarch64 build)
/// from gemc's own directory.
llvm::Expected<std::string> runnerProgram(const CpuTarget &target) {
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, (void *)&runnerProgram);
  bool native = runsOnHostArchitecture(target); // else the aarch64 cross build
  std::string path = (llvm::sys::path::parent_path(self) + "/" +
                      (native ? "gemc-run" : "gemc-run-aarch64"))
                         .str();
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("--emit exe: cannot read the runner program {}: {} (it is built and "
                     "installed next to gemc)",
                     path, buffer.getError().message());
  if (!native)
    llvm::errs() << "note: the aarch64 runner is built without sentencepiece: the executable "
                    "takes token ids (--tokens) only\n";
  return (*buffer)->getBuffer().str();
}

/// The report of an --emit that stops before the artifact: nothing to summarize.
llvm::Expected<CompileReport> earlyOutput(llvm::Error written) {
  if (written)
    return written;
  return CompileReport();
}

} // namespace

llvm::Expected<CompileReport> compileCheckpoint(const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<CpuTarget> target = lookupCpuTarget(options.target);
  if (!target)
    return target.takeError();
  if (options.maxChunk < 1)
    return makeError("--max-chunk must be at least 1, found {}", options.maxChunk);
  if (options.emit == "lib" && !llvm::StringRef(options.output).ends_with(".a"))
    return makeError("--emit lib: -o must name the static library to write, ending in .a "
                     "(found '{}')",
                     options.output);
  if (options.emit == "lib" && llvm::StringRef(libraryName(options.output)).starts_with("gemc_"))
    return makeError("--emit lib: the library's name '{}' would give functions that clash with "
                     "the runtime's gemc_* API; choose another file name",
                     libraryName(options.output));
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint, options.quant);
  if (!model)
    return model.takeError();
  mlir::ModuleOp module = *model->module;
  if (options.emit == "mlir")
    return earlyOutput(writeFile(options.output, printed(module)));

  const TextConfig &config = model->checkpoint.config();
  llvm::Expected<GenerationConfig> generation =
      GenerationConfig::load(options.checkpoint, config.vocabSize, config.eosTokenId);
  if (!generation)
    return generation.takeError();
  llvm::Expected<std::string> tokenizer = checkpointTokenizer(options.checkpoint, config.vocabSize);
  if (!tokenizer)
    return tokenizer.takeError();

  if (failed(formAndPlanDispatches(module, options.maxChunk)))
    return makeError("{}: dispatch formation failed (a gemc bug)", options.checkpoint);
  mlir::FailureOr<MemoryPlan> plan = readMemoryPlan(module);
  if (failed(plan))
    return makeError("{}: the buffer plan is incomplete (a gemc bug)", options.checkpoint);
  if (failed(lowerDispatchesToLLVM(module, target->vectorWidth)))
    return makeError("{}: lowering to LLVM failed (a gemc bug)", options.checkpoint);
  if (options.emit == "llvm")
    return earlyOutput(writeFile(options.output, printed(module)));
  llvm::Expected<std::string> object = emitObject(module, *target);
  if (!object)
    return object.takeError();
  if (options.emit == "obj")
    return earlyOutput(writeFile(options.output, *object));
  llvm::Expected<std::string> code = linkSharedObject(*object);
  if (!code)
    return code.takeError();
  std::string runner;
  if (options.emit == "exe") {
    llvm::Expected<std::string> program = runnerProgram(*target);
    if (!program)
      return program.takeError();
    runner = std::move(*program);
  }
  // A library's artifact goes beside it, as NAME.gemc.
  std::string artifactPath = options.output;
  if (options.emit == "lib")
    artifactPath = llvm::StringRef(options.output).drop_back(2).str() + ".gemc";
  llvm::Expected<WrittenArtifact> written =
      writeArtifact(artifactPath, {model->checkpoint, *target, *plan, *code, *generation,
                                   std::move(*tokenizer), chatTemplateFor(config),
                                   std::move(runner)});
  if (!written)
    return written.takeError();
  if (options.emit == "lib")
    if (llvm::Error error = writeLibrary(*object, module.getContext(), *target,
                                         {options.output, libraryName(options.output),
                                          artifactPath, *written,
                                          options.libWeights == "embedded", *plan}))
      return error;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string outputs = options.emit == "lib"
                            ? fmt::format("{}, its header and {}", options.output, artifactPath)
                            : options.output;
  return CompileReport{outputs, *target, code->size(), plan->weights.totalBytes, seconds};
}

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

} // namespace gemc
