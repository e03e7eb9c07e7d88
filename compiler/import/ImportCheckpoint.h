//===- ImportCheckpoint.h - Checkpoint to gemma module --------------------===//
#pragma once

#include "frontends/Checkpoint.h"

#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/OwningOpRef.h>

namespace gemc {

/// Builds the gemma module of a validated checkpoint's text decoder: one public function
///   func.func @forward(%ids: tensor<?xi32>, %start_pos: index) -> tensor<?xVxf32>
/// returning the logits of every token. With `media`, it takes a third argument, the soft
/// tokens of the call's media placeholder ids (tensor<?xDxf32>, one row per placeholder, in
/// order), which take those ids' rows of the embedding (§1.10). The context must have the
/// gemma, func and arith dialects loaded.
mlir::OwningOpRef<mlir::ModuleOp> importCheckpoint(mlir::MLIRContext &context,
                                                  const Checkpoint &checkpoint,
                                                  bool media = false);

/// Builds the gemma module of a checkpoint's vision tower and projector (the checkpoint must
/// have one): one public function
///   func.func @encode_image(%pixels: tensor<?xPxf32>, %positions: tensor<?x2xi32>)
///       -> tensor<?xDxf32>
/// from one image's N patches to its N / 9 soft tokens at the text model's width D.
mlir::OwningOpRef<mlir::ModuleOp> importVisionEncoder(mlir::MLIRContext &context,
                                                     const Checkpoint &checkpoint);

/// Builds the gemma module of a checkpoint's audio tower and projector (the checkpoint must
/// have one): one public function
///   func.func @encode_audio(%features: tensor<?x128xf32>) -> tensor<?xDxf32>
/// from one clip's T valid log-mel frames to its ceil(ceil(T / 2) / 2) soft tokens.
mlir::OwningOpRef<mlir::ModuleOp> importAudioEncoder(mlir::MLIRContext &context,
                                                    const Checkpoint &checkpoint);

} // namespace gemc
