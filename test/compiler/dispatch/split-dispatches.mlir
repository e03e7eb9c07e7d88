// RUN: gemc-opt %s --gemc-split-dispatches | FileCheck %s

// A dispatch of several steps becomes one dispatch per step, in order, each with the views its
// step reads (and only those); a dispatch of one step is left alone.

// CHECK-LABEL: func.func @forward()
// CHECK: exec.dispatch "ple_inject_1.mix.elementwise" {
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: %[[T:.*]] = memref.dim
// CHECK-NEXT: memref.subview %{{.*}}[0, 1, 0] [%[[T]], 1, 4] [1, 1, 1]
// CHECK-NEXT: exec.elementwise
// CHECK: exec.dispatch "ple_inject_1.mix.rms_norm" {
// CHECK-NEXT: exec.rms_norm {{.*}}
// CHECK-NEXT: {{^ *}}}
// CHECK: exec.dispatch "alone" {
// CHECK-NEXT: exec.rms_norm {{.*}}
// CHECK-NEXT: {{^ *}}}
// CHECK-NOT: exec.dispatch
module attributes {exec.max_chunk = 4 : i64} {
  func.func @forward() {
    %gate = exec.scratch : memref<?x4xf32>
    %ple = exec.scratch : memref<?x2x4xf32>
    exec.dispatch "ple_inject_1.mix" {
      %c0 = arith.constant 0 : index
      %t = memref.dim %ple, %c0 : memref<?x2x4xf32>
      %rows = memref.subview %ple[0, 1, 0] [%t, 1, 4] [1, 1, 1] : memref<?x2x4xf32> to memref<?x4xf32, strided<[8, 1], offset: 4>>
      exec.elementwise ins(%gate, %rows : memref<?x4xf32>, memref<?x4xf32, strided<[8, 1], offset: 4>>) outs(%gate : memref<?x4xf32>) {
      ^bb0(%a: f32, %b: f32):
        %0 = arith.mulf %a, %b : f32
        exec.yield %0 : f32
      }
      exec.rms_norm %gate into %gate {eps = 1.0e-06 : f64} : memref<?x4xf32> into memref<?x4xf32>
    }
    exec.dispatch "alone" {
      exec.rms_norm %gate into %gate {eps = 1.0e-06 : f64} : memref<?x4xf32> into memref<?x4xf32>
    }
    return
  }
}
