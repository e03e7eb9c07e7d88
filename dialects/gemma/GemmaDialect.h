//===- GemmaDialect.h - The gemma dialect -----------------------------------===//
#pragma once

#include <mlir/IR/Dialect.h>

#include "dialects/gemma/GemmaDialect.h.inc"
#include "dialects/gemma/GemmaEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/gemma/GemmaAttrs.h.inc"

namespace gemc::gemma {
/// Registers the dialects a gemma module uses: gemma, func (the forward function) and arith
/// (residual adds).
void registerModuleDialects(mlir::DialectRegistry &registry);
} // namespace gemc::gemma
