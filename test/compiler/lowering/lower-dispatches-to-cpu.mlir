// RUN: gemc-opt %s --split-input-file --gemc-lower-dispatches-to-cpu=vector-width=4 --verify-diagnostics | FileCheck %s

// One CPU kernel per dispatch, named by its index and name, with the ABI of ExecutionAbi.h:
// (bindings, params, worker, workers). The prologue reads the call's parameters (tokens, start
// position, context length, logits rows) and makes a memref of each binding in order of first
// use; the steps become loops over this worker's share.

// CHECK-LABEL: func.func @gemc_k0_mlp_1_gate(
// CHECK-SAME: %[[BINDINGS:[^:]*]]: !llvm.ptr, %[[PARAMS:[^:]*]]: !llvm.ptr, %[[WORKER:[^:]*]]: index, %[[WORKERS:[^:]*]]: index)
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[PARAMS]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[T64:.*]] = llvm.load %[[P0]] : !llvm.ptr -> i64
// CHECK: %[[TOKENS:.*]] = arith.index_cast %[[T64]] : i64 to index
// CHECK: llvm.getelementptr %[[PARAMS]][3]
// Binding 0 is the input x, [T, 8] f32.
// CHECK: %[[B0:.*]] = llvm.getelementptr %[[BINDINGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[X_PTR:.*]] = llvm.load %[[B0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[X:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<?x8xf32>
// Binding 1 is the weight, binding 2 the output.
// CHECK: llvm.getelementptr %[[BINDINGS]][1]
// CHECK: to memref<16x8xbf16>
// CHECK: llvm.getelementptr %[[BINDINGS]][2]
// CHECK: to memref<?x16xf32>
// The worker's share of the 16 output channels, in whole tiles of 2 channels x 4 tokens (at 4
// lanes): tiles [8 w / W, 8 (w + 1) / W), each of 2 channels.
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: arith.muli %[[C8]], %[[WORKER]]
// CHECK: arith.divui %{{.*}}, %[[WORKERS]]
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: arith.muli %{{.*}}, %[[C2]]
// CHECK: scf.for
// CHECK: vector.load %{{.*}} : memref<16x8xbf16>, vector<4xbf16>
// CHECK: arith.extf %{{.*}} : vector<4xbf16> to vector<4xf32>
// CHECK: vector.fma %{{.*}} : vector<4xf32>
// CHECK: return
// The elementwise body, cloned per chunk of 4 lanes: its constants splatted.
// CHECK-LABEL: func.func @gemc_k1_mlp_1_activate(
// CHECK: scf.for
// CHECK: %[[A:.*]] = vector.load %{{.*}} : memref<?x16xf32>, vector<4xf32>
// CHECK: %[[B:.*]] = vector.load %{{.*}} : memref<?x16xf32>, vector<4xf32>
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[HALFS:.*]] = vector.broadcast %[[HALF]] : f32 to vector<4xf32>
// CHECK: %[[PRODUCT:.*]] = arith.mulf %[[A]], %[[HALFS]] : vector<4xf32>
// CHECK: %[[SUM:.*]] = arith.addf %[[PRODUCT]], %[[B]] : vector<4xf32>
// CHECK: vector.store %[[SUM]]
// CHECK-NOT: func.func @forward
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 512 : i64} {
  func.func @forward() {
    %w = exec.weight "gate" {columns = 8 : i64, format = "bf16", offset = 0 : i64} : memref<16x8xbf16>
    %x = exec.scratch {offset = 0 : i64} : memref<?x8xf32>
    %g = exec.scratch {offset = 128 : i64} : memref<?x16xf32>
    %u = exec.scratch {offset = 384 : i64} : memref<?x16xf32>
    exec.dispatch "mlp_1.gate" {
      exec.linear %x, %w into %g {first_row = 0 : i64} : memref<?x8xf32>, memref<16x8xbf16> into memref<?x16xf32>
    }
    exec.dispatch "mlp_1.activate" {
      exec.elementwise ins(%g, %u : memref<?x16xf32>, memref<?x16xf32>) outs(%g : memref<?x16xf32>) {
      ^bb0(%a: f32, %b: f32):
        %half = arith.constant 0.5 : f32
        %0 = arith.mulf %a, %half : f32
        %1 = arith.addf %0, %b : f32
        exec.yield %1 : f32
      }
    }
    return
  }
}

// -----

// The cache's capacity is the ring's for a sliding layer, the context length (parameter 2) for
// a full one; a token's slot is (start position + t) % capacity.
// CHECK-LABEL: func.func @gemc_k0_attention_0_rope(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %[[PARAMS:[^:]*]]: !llvm.ptr
// CHECK: llvm.getelementptr %[[PARAMS]][1]
// CHECK: %[[START:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: llvm.getelementptr %[[PARAMS]][2]
// CHECK: %[[CONTEXT:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[CONTEXT64:.*]] = arith.index_cast %[[CONTEXT]] : index to i64
// CHECK: llvm.insertvalue %[[CONTEXT64]], %{{.*}}[3, 0]
// CHECK: to memref<?x1x4xf32>
// CHECK: %[[CAPACITY:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<?x1x4xf32>
// CHECK: %[[POSITION:.*]] = arith.addi %[[START]], %{{.*}} : index
// CHECK: arith.remui %[[POSITION]], %[[CAPACITY]] : index
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 128 : i64} {
  func.func @forward() {
    %k = exec.scratch {offset = 0 : i64} : memref<?x1x4xf32>
    %v = exec.scratch {offset = 64 : i64} : memref<?x1x4xf32>
    %ck = exec.kv_cache {fixed_offset = 0 : i64, layer = 0 : i64, per_context_offset = 0 : i64, ring_capacity = 0 : i64, values = false} : memref<?x1x4xf32>
    %cv = exec.kv_cache {fixed_offset = 0 : i64, layer = 0 : i64, per_context_offset = 16 : i64, ring_capacity = 0 : i64, values = true} : memref<?x1x4xf32>
    exec.dispatch "attention_0.rope" {
      exec.store_kv %k, %v into %ck, %cv : memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>, memref<?x1x4xf32>
    }
    return
  }
}

// -----

// expected-error @+1 {{expected a forward function of planned dispatches (gemc-form-dispatches, gemc-plan-buffers)}}
module {
  func.func @forward() {
    return
  }
}
