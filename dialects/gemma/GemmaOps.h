//===- GemmaOps.h - Ops of the gemma dialect --------------------------------===//
#pragma once

#include "dialects/gemma/GemmaDialect.h"
#include "dialects/gemma/WeightFormat.h"

#include <mlir/Bytecode/BytecodeOpInterface.h>
#include <mlir/IR/BuiltinTypes.h>
#include <mlir/IR/OpDefinition.h>
#include <mlir/Interfaces/SideEffectInterfaces.h>

#define GET_OP_CLASSES
#include "dialects/gemma/GemmaOps.h.inc"
