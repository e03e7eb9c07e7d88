//===- ImportCheckpoint.h - Checkpoint to gemma module --------------------===//
#pragma once

#include "frontends/Checkpoint.h"

#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/OwningOpRef.h>

namespace gemc {

/// Builds the gemma module of a validated checkpoint's text decoder: one public function
///   func.func @forward(%ids: tensor<?xi32>, %start_pos: index) -> tensor<?xVxf32>
/// returning the logits of every token. The context must have the gemma, func and arith
/// dialects loaded.
mlir::OwningOpRef<mlir::ModuleOp> importCheckpoint(mlir::MLIRContext &context,
                                                  const Checkpoint &checkpoint);

} // namespace gemc
