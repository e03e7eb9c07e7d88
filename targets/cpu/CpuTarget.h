//===- CpuTarget.h - The CPU targets gemc compiles for --------------------===//
//
// A target names an LLVM triple, CPU and features, and the f32 vector width the lowering
// specialises for. `host` describes the machine gemc runs on.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>
#include <mlir/IR/BuiltinOps.h>

#include <string>
#include <vector>

namespace gemc {

/// `cpu` and `features` are what LLVM compiles for; `tuneCpu` only schedules (it adds no
/// instructions), so `host` can be tuned for the build machine while asking only for features
/// the runtime can check there.
struct CpuTarget {
  std::string name, triple, cpu, tuneCpu, features;
  int64_t vectorWidth = 8;
};

/// The int8 dot product `target` has for int8 activations (gemc-lower-dispatches-to-cpu's
/// integer-dot): vnni (AVX512-VNNI, AVX-VNNI), maddubs (AVX2, AVX512BW), sdot (dotprod), none.
std::string integerDotOf(const CpuTarget &target);
/// Where `target` multiplies bf16 activations with vdpbf16ps (gemc-lower-dispatches-to-cpu's
/// bf16-dot): none without AVX512-BF16 at 16 lanes; all on AMD (znver4, znver5: 32 products
/// an instruction, as fast as an FMA's 16); decode on the others (Intel: Sapphire Rapids
/// issues it at half the FMA rate, measured), so that their prefill keeps the FMAs.
std::string bf16DotOf(const CpuTarget &target);

/// Whether `target`'s code is for the architecture gemc itself runs on (x86-64 or aarch64):
/// programs built with gemc (gemc-run, the runtime library) exist only for that one.
bool runsOnHostArchitecture(const CpuTarget &target);

/// host, x86-64-v3, x86-64-v4, aarch64-neon or aarch64-dotprod.
llvm::Expected<CpuTarget> lookupCpuTarget(const std::string &name);
/// Any CPU LLVM knows for this machine's architecture ("znver4", "sapphirerapids"), as `host`
/// is built: the architecture's base CPU plus every feature `cpu` implies that the runtime can
/// detect, tuned for `cpu`.
llvm::Expected<CpuTarget> lookupNamedCpu(const std::string &cpu);
/// `target` (of this machine's architecture) with `list` ("+avxvnni,-avx512bf16", LLVM's
/// spelling) applied: each feature added or removed with every feature it implies or that
/// needs it, then listed as `host` is (the runtime must be able to check each one); the vector
/// width and the kernels follow from the result.
llvm::Expected<CpuTarget> withCpuFeatures(const CpuTarget &target, const std::string &list);
std::vector<std::string> cpuTargetNames();

/// Compiles an LLVM-dialect module to a relocatable object for `target` (in memory): LLVM IR,
/// -O3, then the target's TargetMachine.
llvm::Expected<std::string> emitObject(mlir::ModuleOp llvmDialectModule, const CpuTarget &target);
/// Links such an object into a shared object (`ld.lld -shared`, in memory): an artifact's code.
llvm::Expected<std::string> linkSharedObject(llvm::StringRef object);
/// The object with its symbols renamed (from, to), references included (llvm-objcopy's
/// --redefine-sym, in memory).
llvm::Expected<std::string>
renameSymbols(llvm::StringRef object,
              const std::vector<std::pair<std::string, std::string>> &renames);

} // namespace gemc
