//===- CpuPipeline.cpp - gemma module to LLVM for a CPU -------------------===//
//
// The pass pipeline from the gemma dialect to the LLVM dialect. The gemc lowering emits
// memref/scf/vector/arith/math code directly; the rest is upstream MLIR. Vector reductions may be
// reassociated (pitfall 12 of toolchain.md), which turns a dot product's horizontal sum into a
// log-depth shuffle tree.
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/CpuPipeline.h"

#include "dialects/gemma/GemmaDialect.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/MemRef/IR/MemRef.h>
#include <mlir/Dialect/MemRef/Transforms/Passes.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/Conversion/Passes.h>
#include <mlir/InitAllExtensions.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Pass/PassRegistry.h>
#include <mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h>
#include <mlir/Transforms/Passes.h>

#include <fmt/format.h>

using namespace mlir;

namespace gemc {

static constexpr const char *kToLLVM =
    "canonicalize,cse,convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "convert-vector-to-llvm{reassociate-fp-reductions=1},finalize-memref-to-llvm,"
    "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts,canonicalize,cse";

void registerCpuPipelineDialects(DialectRegistry &registry) {
  gemma::registerModuleDialects(registry);
  registry.insert<memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect,
                  math::MathDialect>();
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

LogicalResult lowerToLLVMDialect(ModuleOp module, const CpuLoweringOptions &options) {
  static const bool registered = [] {
    registerLowerGemmaToLoopsPass();
    registerTransformsPasses();
    registerConversionPasses();
    memref::registerMemRefPasses();
    return true;
  }();
  (void)registered;
  std::string pipeline =
      fmt::format("builtin.module(gemma-lower-to-loops{{vector-width={} max-chunk={}}},{})",
                  options.vectorWidth, options.maxChunk, kToLLVM);
  // The anchored parse, assigned into a module pass manager (toolchain.md pitfall 9).
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  FailureOr<OpPassManager> parsed = parsePassPipeline(pipeline, llvm::errs());
  if (failed(parsed))
    return failure();
  static_cast<OpPassManager &>(pm) = std::move(*parsed);
  return pm.run(module);
}

} // namespace gemc
