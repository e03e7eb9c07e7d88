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

/// Whether `target`'s code is for the architecture gemc itself runs on (x86-64 or aarch64):
/// programs built with gemc (gemc-run, the runtime library) exist only for that one.
bool runsOnHostArchitecture(const CpuTarget &target);

/// host, x86-64-v3, x86-64-v4 or aarch64-neon.
llvm::Expected<CpuTarget> lookupCpuTarget(const std::string &name);
std::vector<std::string> cpuTargetNames();

/// Compiles an LLVM-dialect module to a shared object for `target` (in memory): LLVM IR, -O3,
/// an object file from the target's TargetMachine, then `ld.lld -shared`.
llvm::Expected<std::string> emitSharedObject(mlir::ModuleOp llvmDialectModule,
                                             const CpuTarget &target);
/// The relocatable object alone (for --emit obj and disassembly tests).
llvm::Expected<std::string> emitObject(mlir::ModuleOp llvmDialectModule, const CpuTarget &target);

} // namespace gemc
