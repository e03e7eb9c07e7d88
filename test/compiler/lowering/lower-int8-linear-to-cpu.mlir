// RUN: gemc-opt %s --gemc-lower-dispatches-to-cpu="vector-width=16 integer-dot=vnni" | FileCheck %s --check-prefixes=CHECK,VNNI
// RUN: gemc-opt %s --gemc-lower-dispatches-to-cpu="vector-width=8 integer-dot=maddubs" | FileCheck %s --check-prefixes=CHECK,MADDUBS
// RUN: gemc-opt %s --gemc-lower-dispatches-to-cpu="vector-width=4 integer-dot=sdot" | FileCheck %s --check-prefixes=CHECK,SDOT
// RUN: gemc-opt %s --gemc-lower-dispatches-to-cpu="vector-width=4 integer-dot=none" | FileCheck %s --check-prefixes=CHECK,NONE
// RUN: gemc-opt %s --gemc-tile-weight-rows="vector-width=16 integer-dot=vnni" --gemc-lower-dispatches-to-cpu="vector-width=16 integer-dot=vnni" | FileCheck %s --check-prefixes=CHECK,VNNI,TILED
// RUN: not gemc-opt %s --gemc-lower-dispatches-to-cpu="integer-dot=amx" 2>&1 | FileCheck %s --check-prefix=BAD

// int8 activations: the quantize kernel rounds each block of 32 values to int8 with its f32
// scale (amax / 127, stored as 4 bytes) and the block's four corrections (-8 x sums of its
// values, four i32), then the projection multiplies the int8 rows by the q4_0 rows with the
// target's integer dot product, four byte products per i32 lane, a row group (vector-width / 4
// rows) side by side in one vector. Unsigned nibbles (vpdpbusd, vpmaddubsw) start each row's
// four lanes from the corrections.

// CHECK-LABEL: func.func @gemc_k0_mlp_0_gate_quantize(
// CHECK: vector.reduction <maximumf>
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<4xi8>
// CHECK: math.roundeven
// CHECK: arith.fptosi %{{.*}} : vector<{{[0-9]+}}xf32> to vector<{{[0-9]+}}xi8>
// CHECK: vector.reduction <add>, %{{.*}} : vector<4xi32> into i32
// CHECK: vector.bitcast %{{.*}} : vector<4xi32> to vector<16xi8>

// CHECK-LABEL: func.func @gemc_k1_mlp_0_gate(
// Stored in row tiles (gemc-tile-weight-rows), the weight is read as a view of one tile a row:
// per block, the lines 1 KiB ahead asked for, the tile's eight scales in one load, each
// group's values in another.
// TILED: memref.expand_shape %{{.*}} output_shape [1, 144] : memref<144xi8> into memref<1x144xi8>
// TILED: memref.prefetch %{{.*}}[%{{.*}}], read, locality<3>, data : memref<144xi8>
// TILED: vector.load %{{.*}} : memref<1x144xi8>, vector<16xi8>
// TILED: vector.bitcast %{{.*}} : vector<16xi8> to vector<8xf16>
// TILED: vector.load %{{.*}} : memref<1x144xi8>, vector<64xi8>
// Nibbles of a row group: low ones for values 0-15, high ones for 16-31.
// CHECK: arith.andi
// CHECK: arith.shrui
// VNNI: vector.bitcast %{{.*}} : vector<16xi8> to vector<4xi32>
// MADDUBS: vector.bitcast %{{.*}} : vector<16xi8> to vector<4xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"({{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// MADDUBS: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"({{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"({{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// NONE-NOT: llvm.call_intrinsic
// NONE: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// NONE: arith.muli
// CHECK: arith.sitofp %{{.*}} : vector<{{[0-9]+}}xi32> to vector<{{[0-9]+}}xf32>
// CHECK: vector.fma

// BAD: integer-dot must be vnni, maddubs, sdot or none
module attributes {exec.max_chunk = 4 : i64, exec.scratch_bytes = 1024 : i64} {
  func.func @forward() {
    %w = exec.weight "gate" {columns = 32 : i64, format = "q4_0", offset = 0 : i64} : memref<8x18xi8>
    %x = exec.scratch {offset = 0 : i64} : memref<?x32xf32>
    %xq = exec.scratch {offset = 512 : i64} : memref<?x52xi8>
    %out = exec.scratch {offset = 640 : i64} : memref<?x8xf32>
    exec.dispatch "mlp_0.gate.quantize" {
      exec.quantize_rows %x into %xq : memref<?x32xf32> into memref<?x52xi8>
    }
    exec.dispatch "mlp_0.gate" {
      exec.linear %xq, %w into %out {first_row = 0 : i64} : memref<?x52xi8>, memref<8x18xi8> into memref<?x8xf32>
    }
    return
  }
}
