//===- AssignWeightFormats.h - Puts a quantization config on a gemma module -===//
//
// Sets the `format` of every gemma.weight whose checkpoint tensor the config stores in another
// format than its own dtype, and the `activations` of every matrix whose products round their
// input (the config's `activations`, for the weight formats they apply to). From then on the
// module itself says how each weight is stored: the reference interpreter decodes rows as that
// format stores them, the memory plan sizes the weight section from it, the artifact writer
// quantizes into it and the lowering reads it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/quant/QuantConfig.h"
#include "frontends/Checkpoint.h"

#include <mlir/IR/BuiltinOps.h>

namespace gemc {

/// Returns how many weights round their activations.
int64_t assignWeightFormats(mlir::ModuleOp module, const Checkpoint &checkpoint,
                            const QuantConfig &config);

} // namespace gemc
