//===- ForwardAbi.h - How the runtime calls generated code ----------------===//
//
// The one description of the generated entry point, used by the lowering (which names and
// shapes it), the artifact and library writers (which record or rename its symbols), the
// runtime and the tests (which call it). In MLIR terms it is
//   gemc_forward(ids: memref<?xi32>, start_pos: index, context_length: index,
//                weights: memref<?xi8>, kv_cache: memref<?xi8>, scratch: memref<?xi8>,
//                logits: memref<?xVxf32>, worker: index, workers: index,
//                barrier: (!llvm.ptr) -> (), barrier_context: !llvm.ptr)
// and it is called through its C interface, which takes MLIR's C memref descriptors
// (ForwardFunction below). Plain C++ with no LLVM or MLIR dependency.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace gemc {

template <typename T, int Rank> struct MemRefDescriptor {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <typename T> MemRefDescriptor<T, 1> vectorDescriptor(T *data, int64_t size) {
  return {data, data, 0, {size}, {1}};
}

template <typename T> MemRefDescriptor<T, 2> matrixDescriptor(T *data, int64_t rows, int64_t cols) {
  return {data, data, 0, {rows, cols}, {cols, 1}};
}

/// Called by generated code between dependent steps; returns when every worker has called it.
using BarrierFunction = void (*)(void *context);

/// Every worker calls the entry point with the same buffers and its own `worker` number. The
/// logits buffer may have 1..tokens rows: it receives the logits of the call's last rows.
/// (ids, start position, context length, weight section, KV cache, scratch, logits [tokens,
///  vocab], worker, workers, barrier, barrier context)
using ForwardFunction = void (*)(MemRefDescriptor<int32_t, 1> *ids, int64_t startPos,
                                 int64_t contextLength, MemRefDescriptor<uint8_t, 1> *weights,
                                 MemRefDescriptor<uint8_t, 1> *kvCache,
                                 MemRefDescriptor<uint8_t, 1> *scratch,
                                 MemRefDescriptor<float, 2> *logits, int64_t worker,
                                 int64_t workers, BarrierFunction barrier, void *barrierContext);

/// The entry point's symbol, and that of its C interface (MLIR's `_mlir_ciface_` prefix).
constexpr const char *kForwardSymbol = "gemc_forward";
constexpr const char *kForwardCInterfaceSymbol = "_mlir_ciface_gemc_forward";

} // namespace gemc
