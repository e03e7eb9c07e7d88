//===- Pipelines.cpp - gemma module to a target's code -----------------------===//
//
// The pass pipelines from the gemma dialect to each target: gemc's passes (dispatch formation,
// buffer planning, kernels), then upstream MLIR. CPU: the LLVM dialect, where vector
// reductions may be reassociated (pitfall 12 of toolchain.md), which turns a dot product's
// horizontal sum into a log-depth shuffle tree. Vulkan: SPIR-V modules, serialized in-process
// (gpu-toolchain.md §3: math ops need convert-math-to-spirv first; spirv.module sits beside
// the gpu.module it came from).
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/Pipelines.h"

#include "compiler/Passes.h"
#include "dialects/exec/ExecDialect.h"
#include "dialects/gemma/GemmaDialect.h"
#include "runtime/common/ExecutionAbi.h"

#include <mlir/Conversion/Passes.h>
#include <mlir/Dialect/MemRef/Transforms/Passes.h>
#include <mlir/Dialect/SPIRV/IR/SPIRVOps.h>
#include <mlir/Dialect/SPIRV/Transforms/Passes.h>
#include <mlir/InitAllExtensions.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Pass/PassRegistry.h>
#include <mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h>
#include <mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h>
#include <mlir/Target/SPIRV/Serialization.h>
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

std::string spirvPipeline(uint64_t maxBindingBytes) {
  return fmt::format("gemc-lower-dispatches-to-spirv{{max-binding-bytes={}}},"
                     "gpu.module(canonicalize,cse,convert-math-to-spirv),convert-gpu-to-spirv,"
                     "spirv.module(spirv-lower-abi-attrs,spirv-update-vce)",
                     maxBindingBytes);
}

std::string formAndPlanPipeline(int64_t maxChunk, const CpuKernelOptions *cpu) {
  std::string middle = cpu ? fmt::format("gemc-tile-weight-rows{{vector-width={} integer-dot={}}},",
                                         cpu->vectorWidth, cpu->integerDot)
                           : "gemc-split-dispatches,";
  return fmt::format("gemc-form-dispatches{{max-chunk={}}},{}gemc-plan-buffers", maxChunk, middle);
}

std::string cpuKernelPipeline(const CpuKernelOptions &cpu) {
  return fmt::format("gemc-lower-dispatches-to-cpu{{vector-width={} integer-dot={} bf16-dot={}}},"
                     "gemc-approximate-math,{}",
                     cpu.vectorWidth, cpu.integerDot, cpu.bf16Dot, kToLLVM);
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

struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<int64_t> vectorWidth{*this, "vector-width", llvm::cl::desc("f32 lanes per vector"),
                              llvm::cl::init(8)};
  Option<int64_t> maxChunk{*this, "max-chunk", llvm::cl::desc("most tokens per call"),
                           llvm::cl::init(64)};
  Option<std::string> integerDot{*this, "integer-dot",
                                 llvm::cl::desc("vnni, maddubs, sdot or none"),
                                 llvm::cl::init("none")};
  Option<std::string> bf16Dot{*this, "bf16-dot", llvm::cl::desc("all, decode or none"),
                              llvm::cl::init("none")};
};

void addPasses(OpPassManager &pm, const std::string &passes) {
  if (failed(parsePassPipeline(passes, pm, llvm::errs())))
    llvm::report_fatal_error("a gemc pipeline does not parse (a gemc bug)");
}

} // namespace

void registerGemcPassesAndPipelines() {
  static const bool registered = [] {
    registerGemcPasses();
    registerTransformsPasses();
    registerConversionPasses();
    memref::registerMemRefPasses();
    spirv::registerSPIRVPasses();
    PassPipelineRegistration<PipelineOptions>(
        "gemc-cpu-pipeline", "gemma module to LLVM-dialect CPU kernels",
        [](OpPassManager &pm, const PipelineOptions &options) {
          CpuKernelOptions cpu{options.vectorWidth, options.integerDot, options.bf16Dot};
          addPasses(pm, formAndPlanPipeline(options.maxChunk, &cpu) + "," +
                            cpuKernelPipeline(cpu));
        });
    PassPipelineRegistration<PipelineOptions>(
        "gemc-vulkan-pipeline", "gemma module to SPIR-V compute shaders, one per dispatch",
        [](OpPassManager &pm, const PipelineOptions &options) {
          addPasses(pm, formAndPlanPipeline(options.maxChunk, nullptr) + "," +
                            spirvPipeline(kMaxGpuBindingBytes));
        });
    return true;
  }();
  (void)registered;
}

void registerPipelineDialects(DialectRegistry &registry) {
  gemma::registerModuleDialects(registry);
  registry.insert<exec::ExecDialect, memref::MemRefDialect, scf::SCFDialect,
                  vector::VectorDialect, math::MathDialect, LLVM::LLVMDialect, gpu::GPUDialect,
                  spirv::SPIRVDialect>();
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

LogicalResult formAndPlanDispatches(ModuleOp module, int64_t maxChunk,
                                    const CpuKernelOptions *cpu) {
  return runPipeline(module, formAndPlanPipeline(maxChunk, cpu));
}

LogicalResult lowerDispatchesToLLVM(ModuleOp module, const CpuKernelOptions &cpu) {
  return runPipeline(module, cpuKernelPipeline(cpu));
}

FailureOr<std::vector<SpirvKernel>> lowerDispatchesToSpirv(ModuleOp module,
                                                           uint64_t maxBindingBytes) {
  if (failed(runPipeline(module, spirvPipeline(maxBindingBytes))))
    return failure();
  auto grids = module->getAttrOfType<ArrayAttr>(kWorkgroupsAttr);
  std::vector<SpirvKernel> kernels(grids.size());
  for (auto spirvModule : module.getOps<spirv::ModuleOp>()) {
    // convert-gpu-to-spirv names the module after its gpu.module (the kernel, gemc_k<i>_...)
    // with a prefix.
    std::string name = spirvModule.getName()->str().substr(std::strlen("__spv__"));
    size_t index = std::stoul(name.substr(std::strlen(kKernelSymbolPrefix)));
    SpirvKernel &kernel = kernels.at(index);
    SmallVector<uint32_t> words;
    if (failed(spirv::serialize(spirvModule, words)))
      return failure();
    kernel.words.assign(words.begin(), words.end());
    kernel.name = name;
    auto grid = cast<DenseI64ArrayAttr>(grids[index]);
    kernel.perToken = grid[0];
    kernel.fixed = grid[1];
  }
  return kernels;
}

} // namespace gemc
