//===- CpuPipeline.h - gemma module to LLVM for a CPU ---------------------===//
#pragma once

#include "compiler/lowering/LowerGemmaToLoops.h"

#include <mlir/IR/BuiltinOps.h>

#include <llvm/IR/Module.h>

namespace gemc {

/// Lowers a gemma module in place to the LLVM dialect: gemma-lower-to-loops, then the upstream
/// conversions of scf, vector, memref, math, arith and func. Errors are reported through the
/// context's diagnostic handler.
mlir::LogicalResult lowerToLLVMDialect(mlir::ModuleOp module, const CpuLoweringOptions &options);

/// Registers what lowerToLLVMDialect and LLVM IR translation need in `registry`.
void registerCpuPipelineDialects(mlir::DialectRegistry &registry);

} // namespace gemc
