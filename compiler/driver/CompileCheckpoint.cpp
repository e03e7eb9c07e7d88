//===- CompileCheckpoint.cpp - A checkpoint compiled, as a library call ------===//
//
// checkpoint -> gemma module -> planned dispatches -> kernels -> artifact. CPU targets: the LLVM
// dialect, an object, a shared object; `vulkan`: one SPIR-V module per dispatch. `emit` stops
// early: mlir (the gemma module), llvm (the LLVM-dialect module), obj (the target's relocatable
// object, for disassembly), spirv (a directory of .spv files); exe puts the runner program in
// front of the artifact, making one self-contained executable; lib writes a static library, its
// C header and the artifact beside them, from the same object code as the artifact's.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/CompileCheckpoint.h"

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/LibraryWriter.h"
#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/Pipelines.h"
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
#include <map>

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
  auto buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
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

/// The target named by --target: a CPU target, or `vulkan` (recorded with the SPIR-V triple,
/// no CPU and no vector width); or by --cpu.
llvm::Expected<CpuTarget> lookupTarget(const std::string &name, const std::string &cpu) {
  if (!cpu.empty())
    return name == "host" ? lookupNamedCpu(cpu)
                          : makeError("--cpu {} names the CPU to compile for; it cannot be "
                                      "combined with --target {}",
                                      cpu, name);
  if (name == "vulkan")
    return CpuTarget{"vulkan", "spirv64-unknown-vulkan1.3", "", "", "", 0};
  return lookupCpuTarget(name);
}

/// That target with --cpu-features applied, where given.
llvm::Expected<CpuTarget> lookupTarget(const CompileOptions &options) {
  llvm::Expected<CpuTarget> target = lookupTarget(options.target, options.cpu);
  if (!target || options.cpuFeatures.empty())
    return target;
  if (target->name == "vulkan" || !runsOnHostArchitecture(*target))
    return makeError("--cpu-features changes a CPU target of this machine's architecture; "
                     "--target {} is not one",
                     target->name);
  return withCpuFeatures(*target, options.cpuFeatures);
}

llvm::Error checkOptions(const CompileOptions &options, const CpuTarget &target) {
  if (options.maxChunk < 1)
    return makeError("--max-chunk must be at least 1, found {}", options.maxChunk);
  bool vulkan = target.name == "vulkan";
  if (vulkan && !llvm::is_contained({"artifact", "mlir", "spirv"}, options.emit))
    return makeError("--emit {} is for CPU targets; --target vulkan emits artifact, mlir or "
                     "spirv",
                     options.emit);
  if (!vulkan && options.emit == "spirv")
    return makeError("--emit spirv needs --target vulkan");
  if (options.maxBindingBytes < 4096)
    return makeError("--max-binding-bytes must be at least 4096, found {}",
                     options.maxBindingBytes);
  if (options.syntheticSeed && options.emit == "lib")
    return makeError("--emit lib links the weights into the program or writes them beside it; "
                     "it cannot take --synthetic-weights");
  if (options.emit == "lib" && !llvm::StringRef(options.output).ends_with(".a"))
    return makeError("--emit lib: -o must name the static library to write, ending in .a "
                     "(found '{}')",
                     options.output);
  if (options.emit == "lib" && llvm::StringRef(libraryName(options.output)).starts_with("gemc_"))
    return makeError("--emit lib: the library's name '{}' would give functions that clash with "
                     "the runtime's gemc_* API; choose another file name",
                     libraryName(options.output));
  return llvm::Error::success();
}

/// What every artifact holds besides code and weights.
struct TextSupport {
  GenerationConfig generation;
  std::string tokenizer, chatTemplate;
};

llvm::Expected<TextSupport> textSupport(const std::string &dir, const TextConfig &config) {
  llvm::Expected<GenerationConfig> generation =
      GenerationConfig::load(dir, config.vocabSize, config.eosTokenId);
  if (!generation)
    return generation.takeError();
  llvm::Expected<std::string> tokenizer = checkpointTokenizer(dir, config.vocabSize);
  if (!tokenizer)
    return tokenizer.takeError();
  return TextSupport{std::move(*generation), std::move(*tokenizer), chatTemplateFor(config)};
}

/// Dispatches planned for `cpu` (else for GPUs: one step each, bindings of at most
/// options.maxBindingBytes) and read back, or the gemc bug that stopped it.
llvm::Expected<MemoryPlan> planDispatches(mlir::ModuleOp module, const CompileOptions &options,
                                          const CpuKernelOptions *cpu) {
  if (failed(formAndPlanDispatches(module, options.maxChunk, cpu)))
    return makeError("{}: dispatch formation failed (a gemc bug)", options.checkpoint);
  mlir::FailureOr<MemoryPlan> plan = readMemoryPlan(module, cpu ? 0 : options.maxBindingBytes);
  if (failed(plan))
    return makeError("{}: the buffer plan is incomplete (a gemc bug)", options.checkpoint);
  return std::move(*plan);
}

llvm::StringRef moduleBytes(const SpirvKernel &kernel) {
  return llvm::StringRef(reinterpret_cast<const char *>(kernel.words.data()),
                         kernel.words.size() * sizeof(uint32_t));
}

/// Writes each kernel's SPIR-V module to DIR/<kernel>.spv.
llvm::Error writeSpirvFiles(const std::string &dir, const std::vector<SpirvKernel> &kernels) {
  if (std::error_code error = llvm::sys::fs::create_directories(dir))
    return makeError("{}: cannot create the directory: {}", dir, error.message());
  for (const SpirvKernel &kernel : kernels)
    if (llvm::Error error = writeFile(dir + "/" + kernel.name + ".spv", moduleBytes(kernel)))
      return error;
  return llvm::Error::success();
}

llvm::Expected<CompileReport> compileForVulkan(LoadedModel &model, const CompileOptions &options,
                                               const CpuTarget &target, TextSupport text) {
  mlir::ModuleOp module = *model.module;
  llvm::Expected<MemoryPlan> plan = planDispatches(module, options, /*cpu=*/nullptr);
  if (!plan)
    return plan.takeError();
  mlir::FailureOr<std::vector<SpirvKernel>> kernels =
      lowerDispatchesToSpirv(module, options.maxBindingBytes);
  if (failed(kernels))
    return makeError("{}: lowering to SPIR-V failed (a gemc bug)", options.checkpoint);
  if (options.emit == "spirv")
    return earlyOutput(writeSpirvFiles(options.output, *kernels));
  // Kernels with the same code (one step on the same shapes in several layers) share one
  // module in the section.
  std::string code;
  std::map<std::string, uint64_t> offsets;
  std::vector<GpuKernelCode> gpuKernels;
  for (const SpirvKernel &kernel : *kernels) {
    std::string module = moduleBytes(kernel).str();
    auto [it, inserted] = offsets.try_emplace(module, code.size());
    if (inserted)
      code += module;
    gpuKernels.push_back({it->second, module.size(), kernel.perToken, kernel.fixed});
  }
  llvm::Expected<WrittenArtifact> written = writeArtifact(
      options.output, {model.checkpoint, target, *plan, code, std::move(gpuKernels),
                       text.generation, std::move(text.tokenizer), text.chatTemplate, "",
                       options.syntheticSeed});
  if (!written)
    return written.takeError();
  return CompileReport{options.output, target, code.size(), plan->weights.totalBytes, 0};
}

llvm::Expected<CompileReport> compileForCpu(LoadedModel &model, const CompileOptions &options,
                                            const CpuTarget &target, TextSupport text) {
  mlir::ModuleOp module = *model.module;
  CpuKernelOptions cpu{target.vectorWidth, integerDotOf(target), bf16DotOf(target)};
  llvm::Expected<MemoryPlan> plan = planDispatches(module, options, &cpu);
  if (!plan)
    return plan.takeError();
  if (failed(lowerDispatchesToLLVM(module, cpu)))
    return makeError("{}: lowering to LLVM failed (a gemc bug)", options.checkpoint);
  if (options.emit == "llvm")
    return earlyOutput(writeFile(options.output, printed(module)));
  llvm::Expected<std::string> object = emitObject(module, target);
  if (!object)
    return object.takeError();
  if (options.emit == "obj")
    return earlyOutput(writeFile(options.output, *object));
  llvm::Expected<std::string> code = linkSharedObject(*object);
  if (!code)
    return code.takeError();
  std::string runner;
  if (options.emit == "exe") {
    llvm::Expected<std::string> program = runnerProgram(target);
    if (!program)
      return program.takeError();
    runner = std::move(*program);
  }
  // A library's artifact goes beside it, as NAME.gemc.
  std::string artifactPath = options.output;
  if (options.emit == "lib")
    artifactPath = llvm::StringRef(options.output).drop_back(2).str() + ".gemc";
  llvm::Expected<WrittenArtifact> written =
      writeArtifact(artifactPath, {model.checkpoint, target, *plan, *code, {}, text.generation,
                                   std::move(text.tokenizer), text.chatTemplate,
                                   std::move(runner), options.syntheticSeed});
  if (!written)
    return written.takeError();
  std::string outputs = options.output;
  if (options.emit == "lib") {
    if (llvm::Error error = writeLibrary(*object, module.getContext(), target,
                                         {options.output, libraryName(options.output),
                                          artifactPath, *written,
                                          options.libWeights == "embedded", *plan}))
      return error;
    outputs = fmt::format("{}, its header and {}", options.output, artifactPath);
  }
  return CompileReport{outputs, target, code->size(), plan->weights.totalBytes, 0};
}

} // namespace

llvm::Expected<CompileReport> compileCheckpoint(const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<CpuTarget> target = lookupTarget(options);
  if (!target)
    return target.takeError();
  if (llvm::Error error = checkOptions(options, *target))
    return error;
  llvm::Expected<LoadedModel> model =
      loadModel(options.checkpoint, options.quant, options.syntheticSeed.has_value());
  if (!model)
    return model.takeError();
  if (const MediaConfig &media = model->checkpoint.media(); media.vision || media.audio)
    llvm::errs() << fmt::format("note: the {} checked but not compiled yet: the artifact "
                                "reads text only\n",
                                media.vision && media.audio ? "vision and audio towers are"
                                : media.vision              ? "vision tower is"
                                                            : "audio tower is");
  if (options.emit == "mlir")
    return earlyOutput(writeFile(options.output, printed(*model->module)));
  llvm::Expected<TextSupport> text = textSupport(options.checkpoint, model->checkpoint.config());
  if (!text)
    return text.takeError();
  llvm::Expected<CompileReport> report =
      target->name == "vulkan" ? compileForVulkan(*model, options, *target, std::move(*text))
                               : compileForCpu(*model, options, *target, std::move(*text));
  if (report)
    report->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

llvm::Expected<LoadedModel> loadModel(const std::string &dir, const QuantOptions &quant,
                                      bool synthetic, bool media) {
  std::optional<QuantConfig> config;
  if (!quant.format.empty() || !quant.configFile.empty()) {
    llvm::Expected<QuantConfig> parsed = quant.format.empty()
                                             ? QuantConfig::load(quant.configFile)
                                             : QuantConfig::uniform(quant.format);
    if (!parsed)
      return parsed.takeError();
    config = std::move(*parsed);
  }
  std::optional<ActivationFormat> activations = parseActivationFormat(quant.activations);
  if (activations == ActivationFormat::Int8 && !config)
    return makeError("--activations int8: needs --quant or --quant-config (only quantized "
                     "matrices round their activations)");
  if (activations && !config) // bf16: the checkpoint's bf16 matrices
    config.emplace();
  if (activations)
    config->activations = *activations;
  llvm::Expected<Checkpoint> checkpoint =
      synthetic ? Checkpoint::openSynthetic(dir) : Checkpoint::open(dir);
  if (!checkpoint)
    return checkpoint.takeError();
  if (std::string note = checkpoint->unusedSummary(); !note.empty())
    llvm::errs() << note << "\n";
  mlir::DialectRegistry registry;
  registerPipelineDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();

  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(context.get(), [&](mlir::Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << "\n  " << diag.getLocation() << ": " << diag.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(*context, *checkpoint, media);
  int64_t rounding = config ? assignWeightFormats(*module, *checkpoint, *config) : 0;
  if (config && config->activations == ActivationFormat::Int8 && rounding == 0)
    return makeError("activations int8: no matrix of {} is quantized (int8 activations "
                     "multiply quantized weights: add --quant q8_0, q4_0, ...)",
                     dir);
  if (config && config->activations == ActivationFormat::BF16 && rounding == 0)
    return makeError("activations bf16: no matrix of {} is stored in bf16 (bf16 activations "
                     "multiply bf16 weights: add --quant bf16)",
                     dir);
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
