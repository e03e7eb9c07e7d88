//===- ExecOps.h - Ops of the exec dialect ----------------------------------===//
#pragma once

#include "dialects/exec/ExecDialect.h"
#include "runtime/common/WeightFormat.h"

#include <mlir/Bytecode/BytecodeOpInterface.h>
#include <mlir/Dialect/MemRef/IR/MemRef.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/OpDefinition.h>
#include <mlir/Interfaces/SideEffectInterfaces.h>

#define GET_OP_CLASSES
#include "dialects/exec/ExecOps.h.inc"

namespace gemc::exec {

/// The buffer op (exec.weight, exec.kv_cache, exec.scratch, exec.token_ids, exec.logits) that
/// `value` is a view of, or null.
mlir::Operation *rootBuffer(mlir::Value value);

/// The buffer ops a dispatch's steps use, in order of first use: its bindings.
llvm::SmallVector<mlir::Operation *> dispatchBindings(DispatchOp dispatch);

} // namespace gemc::exec
