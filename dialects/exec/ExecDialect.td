//===- ExecDialect.td - The exec dialect ---------------------*- tablegen -*-===//
//
// The exec dialect states a forward step as the targets execute it: buffers placed in the
// weights, KV-cache, scratch and I/O buffers, and a sequence of dispatches, each a handful of
// kernel steps on those buffers. It sits between the gemma dialect (one op per block of the
// architecture, on tensors) and each target's kernels (CPU functions run by a worker pool,
// GPU compute shaders), so that splitting the model into dispatches and placing its buffers is
// done once, for every target.
//
//===----------------------------------------------------------------------===//

#ifndef EXEC_DIALECT
#define EXEC_DIALECT

include "mlir/IR/OpBase.td"

def Exec_Dialect : Dialect {
  let name = "exec";
  let cppNamespace = "::gemc::exec";
  let summary = "a forward step as dispatches of kernel steps on placed buffers";
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // EXEC_DIALECT
