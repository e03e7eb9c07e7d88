//===- CpuPipeline.cpp - gemma module to LLVM for a CPU -------------------===//
//
// The pass pipeline from the gemma dialect to the LLVM dialect: gemc's three passes (dispatch
// formation, buffer planning, CPU kernels), then upstream MLIR. Vector reductions may be
// reassociated (pitfall 12 of toolchain.md), which turns a dot product's horizontal sum into a
// log-depth shuffle tree.
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/CpuPipeline.h"

#include "compiler/Passes.h"
#include "dialects/exec/ExecDialect.h"
#include "dialects/gemma/GemmaDialect.h"

#include <mlir/Conversion/Passes.h>
#include <mlir/Dialect/MemRef/Transforms/Passes.h>
#include <mlir/InitAllExtensions.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Pass/PassRegistry.h>
#include <mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h>
#include <mlir/Transforms/Passes.h>

#include <fmt/format.h>

using namespace mlir;

namespace gemc {
namespace {

constexpr const char *kToLLVM =
    "canonicalize,cse,convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "convert-vector-to-llvm{reassociate-fp-reductions=1},finalize-memref-to-llvm,"
    "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts,canonicalize,cse";

std::string formAndPlanPipeline(int64_t maxChunk) {
  return fmt::format("gemc-form-dispatches{{max-chunk={}}},gemc-plan-buffers", maxChunk);
}

std::string cpuKernelPipeline(int64_t vectorWidth) {
  return fmt::format("gemc-lower-dispatches-to-cpu{{vector-width={}}},{}", vectorWidth, kToLLVM);
}

LogicalResult runPipeline(ModuleOp module, const std::string &passes) {
  registerGemcPassesAndPipelines();
  // The anchored parse, assigned into a module pass manager (toolchain.md pitfall 9).
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  FailureOr<OpPassManager> parsed =
      parsePassPipeline("builtin.module(" + passes + ")", llvm::errs());
  if (failed(parsed))
    return failure();
  static_cast<OpPassManager &>(pm) = std::move(*parsed);
  return pm.run(module);
}

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> vectorWidth{*this, "vector-width", llvm::cl::desc("f32 lanes per vector"),
                              llvm::cl::init(8)};
  Option<int64_t> maxChunk{*this, "max-chunk", llvm::cl::desc("most tokens per call"),
                           llvm::cl::init(64)};
};

} // namespace

void registerGemcPassesAndPipelines() {
  static const bool registered = [] {
    registerGemcPasses();
    registerTransformsPasses();
    registerConversionPasses();
    memref::registerMemRefPasses();
    PassPipelineRegistration<CpuPipelineOptions>(
        "gemc-cpu-pipeline", "gemma module to LLVM dialect CPU kernels",
        [](OpPassManager &pm, const CpuPipelineOptions &options) {
          std::string passes = formAndPlanPipeline(options.maxChunk) + "," +
                               cpuKernelPipeline(options.vectorWidth);
          if (failed(parsePassPipeline(passes, pm, llvm::errs())))
            llvm::report_fatal_error("gemc-cpu-pipeline does not parse (a gemc bug)");
        });
    return true;
  }();
  (void)registered;
}

void registerCpuPipelineDialects(DialectRegistry &registry) {
  gemma::registerModuleDialects(registry);
  registry.insert<exec::ExecDialect, memref::MemRefDialect, scf::SCFDialect,
                  vector::VectorDialect, math::MathDialect, LLVM::LLVMDialect>();
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

LogicalResult formAndPlanDispatches(ModuleOp module, int64_t maxChunk) {
  return runPipeline(module, formAndPlanPipeline(maxChunk));
}

LogicalResult lowerDispatchesToLLVM(ModuleOp module, int64_t vectorWidth) {
  return runPipeline(module, cpuKernelPipeline(vectorWidth));
}

LogicalResult lowerToLLVMDialect(ModuleOp module, const CpuLoweringOptions &options) {
  if (failed(formAndPlanDispatches(module, options.maxChunk)))
    return failure();
  return lowerDispatchesToLLVM(module, options.vectorWidth);
}

} // namespace gemc
