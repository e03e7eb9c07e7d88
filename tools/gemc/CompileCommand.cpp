//===- CompileCommand.cpp - gemc compile ------------------------------------===//
//
// checkpoint -> gemma module -> (memory plans) -> LLVM dialect -> object -> shared object ->
// artifact. `--emit` stops early: mlir (the gemma module), llvm (the LLVM-dialect module), obj
// (the target's relocatable object, for disassembly).
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/pipeline/CpuPipeline.h"
#include "frontends/Error.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/raw_ostream.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>

#include <sys/resource.h>

#include <chrono>

namespace gemc {
namespace {

std::string printed(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

double peakMemoryMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

} // namespace

llvm::Error runCompile(const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<CpuTarget> target = lookupCpuTarget(options.target);
  if (!target)
    return target.takeError();
  if (options.maxChunk < 1)
    return makeError("--max-chunk must be at least 1, found {}", options.maxChunk);
  llvm::Expected<LoadedModel> model = loadModel(options.checkpoint);
  if (!model)
    return model.takeError();
  mlir::ModuleOp module = *model->module;
  if (options.emit == "mlir")
    return writeFile(options.output, printed(module));

  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  WeightLayout weights = planWeightLayout(forward);
  KvCachePlan kvCache = planKvCache(forward, options.maxChunk);
  if (failed(lowerToLLVMDialect(module, {target->vectorWidth, options.maxChunk})))
    return makeError("{}: lowering to LLVM failed (a gemc bug)", options.checkpoint);
  if (options.emit == "llvm")
    return writeFile(options.output, printed(module));
  uint64_t scratchBytes = module->getAttrOfType<mlir::IntegerAttr>(kScratchBytesAttr).getInt();
  if (options.emit == "obj") {
    llvm::Expected<std::string> object = emitObject(module, *target);
    if (!object)
      return object.takeError();
    return writeFile(options.output, *object);
  }
  llvm::Expected<std::string> code = emitSharedObject(module, *target);
  if (!code)
    return code.takeError();
  if (llvm::Error error =
          writeArtifact(options.output, {model->checkpoint, *target, weights, kvCache, *code,
                                         scratchBytes, "_mlir_ciface_gemc_forward"}))
    return error;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  llvm::errs() << fmt::format("wrote {}: target {} ({}, {} f32 lanes), code {:.1f} KiB, weights "
                              "{:.1f} MiB, {:.2f} s, peak memory {:.0f} MiB\n",
                              options.output, target->name, target->cpu, target->vectorWidth,
                              double(code->size()) / 1024.0,
                              double(weights.totalBytes) / (1024.0 * 1024.0), seconds,
                              peakMemoryMiB());
  return llvm::Error::success();
}

} // namespace gemc
