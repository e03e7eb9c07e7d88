//===- ExecDialect.h - The exec dialect -------------------------------------===//
#pragma once

#include <mlir/IR/Dialect.h>

#include "dialects/exec/ExecDialect.h.inc"
