//===- ExecDialect.cpp - The exec dialect -----------------------------------===//

#include "dialects/exec/ExecDialect.h"

#include "dialects/exec/ExecOps.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/MemRef/IR/MemRef.h>

#include "dialects/exec/ExecDialect.cpp.inc"

namespace gemc::exec {

void ExecDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/exec/ExecOps.cpp.inc"
      >();
}

} // namespace gemc::exec
