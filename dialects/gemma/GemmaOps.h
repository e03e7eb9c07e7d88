//===- GemmaOps.h - Ops of the gemma dialect --------------------------------===//
#pragma once

#include "dialects/gemma/GemmaDialect.h"
#include "runtime/common/WeightFormat.h"

#include <mlir/Bytecode/BytecodeOpInterface.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/OpDefinition.h>
#include <mlir/Interfaces/SideEffectInterfaces.h>

#define GET_OP_CLASSES
#include "dialects/gemma/GemmaOps.h.inc"

namespace gemc::gemma {

/// The float format of a weight element type (bf16, f16 or f32), and the element type of a float
/// format: the one mapping between the IR's element types and weight formats (and, through
/// floatFormatOf/dtypeOf, checkpoint dtypes).
WeightFormat floatFormatOf(mlir::Type element);
mlir::Type elementTypeOf(WeightFormat floatFormat, mlir::MLIRContext *context);

} // namespace gemc::gemma
