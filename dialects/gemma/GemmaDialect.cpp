//===- GemmaDialect.cpp - The gemma dialect ---------------------------------===//

#include "dialects/gemma/GemmaDialect.h"

#include "dialects/gemma/GemmaOps.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/IR/DialectImplementation.h>

#include "dialects/gemma/GemmaDialect.cpp.inc"
#include "dialects/gemma/GemmaEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/gemma/GemmaAttrs.cpp.inc"

namespace gemc::gemma {

void GemmaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/gemma/GemmaOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/gemma/GemmaAttrs.cpp.inc"
      >();
}

void registerModuleDialects(mlir::DialectRegistry &registry) {
  registry.insert<GemmaDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
}

} // namespace gemc::gemma
