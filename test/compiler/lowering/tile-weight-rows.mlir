// RUN: gemc-opt %s --gemc-tile-weight-rows="vector-width=16 integer-dot=vnni" | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: gemc-opt %s --gemc-tile-weight-rows="vector-width=8 integer-dot=maddubs" | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: gemc-opt %s --gemc-tile-weight-rows="vector-width=16 integer-dot=maddubs" | FileCheck %s --check-prefixes=CHECK,AVX512BW
// RUN: gemc-opt %s --gemc-tile-weight-rows="vector-width=4 integer-dot=sdot" | FileCheck %s --check-prefixes=CHECK,NEON
// RUN: not gemc-opt %s --gemc-tile-weight-rows="integer-dot=amx" 2>&1 | FileCheck %s --check-prefix=BAD

// A weight is stored in row tiles (two groups of vector-width / 4 rows) when every use is a
// projection of int8 activations over whole tiles of its rows.

// Only int8 projections over whole tiles: tiled.
// AVX512: exec.weight "q4" {columns = 64 : i64, format = "q4_0", tile_rows = 8 : i64}
// AVX2: exec.weight "q4" {columns = 64 : i64, format = "q4_0", tile_rows = 4 : i64}
// AVX512BW: exec.weight "q4" {columns = 64 : i64, format = "q4_0", tile_rows = 8 : i64}
// NEON: exec.weight "q4" {columns = 64 : i64, format = "q4_0", tile_rows = 2 : i64}
// q8_0: tiled but where vpmaddubsw would take it at 16 lanes (it takes f32 products there).
// AVX512: exec.weight "q8" {columns = 32 : i64, format = "q8_0", tile_rows = 8 : i64}
// AVX2: exec.weight "q8" {columns = 32 : i64, format = "q8_0", tile_rows = 4 : i64}
// AVX512BW: exec.weight "q8" {columns = 32 : i64, format = "q8_0"} :
// NEON: exec.weight "q8" {columns = 32 : i64, format = "q8_0", tile_rows = 2 : i64}
// Also read by a gather (an embedding table that is the LM head too): tiled; read only by a
// gather: row layout.
// AVX512: exec.weight "table" {columns = 64 : i64, format = "q4_0", tile_rows = 8 : i64}
// CHECK: exec.weight "gathered" {columns = 64 : i64, format = "q4_0"} :
// Multiplied by f32 activations: row layout.
// CHECK: exec.weight "f32x" {columns = 64 : i64, format = "q4_0"} :
// Rows that are not whole blocks: row layout.
// CHECK: exec.weight "short" {columns = 16 : i64, format = "q4_0"} :
// 12 rows: whole tiles of 2 and 4, not of 8.
// AVX512: exec.weight "rows12" {columns = 32 : i64, format = "q4_0"} :
// AVX2: exec.weight "rows12" {columns = 32 : i64, format = "q4_0", tile_rows = 4 : i64}
// A band of rows from row 4 (a whole tile of 2 and 4, not 8).
// AVX512: exec.weight "band" {columns = 32 : i64, format = "q4_0"} :
// AVX2: exec.weight "band" {columns = 32 : i64, format = "q4_0", tile_rows = 4 : i64}
// Experts [E, rows, K]: each expert's rows in tiles.
// AVX512: exec.weight "experts" {columns = 32 : i64, format = "q4_0", tile_rows = 8 : i64} : memref<3x16x18xi8>

// BAD: integer-dot must be vnni, maddubs, sdot or none
module {
  func.func @forward() {
    %ids = exec.token_ids : memref<?xi32>
    %q4 = exec.weight "q4" {columns = 64 : i64, format = "q4_0"} : memref<16x36xi8>
    %q8 = exec.weight "q8" {columns = 32 : i64, format = "q8_0"} : memref<8x34xi8>
    %table = exec.weight "table" {columns = 64 : i64, format = "q4_0"} : memref<16x36xi8>
    %gathered = exec.weight "gathered" {columns = 64 : i64, format = "q4_0"} : memref<16x36xi8>
    %f32x = exec.weight "f32x" {columns = 64 : i64, format = "q4_0"} : memref<16x36xi8>
    %short = exec.weight "short" {columns = 16 : i64, format = "q4_0"} : memref<16x18xi8>
    %rows12 = exec.weight "rows12" {columns = 32 : i64, format = "q4_0"} : memref<12x18xi8>
    %band = exec.weight "band" {columns = 32 : i64, format = "q4_0"} : memref<16x18xi8>
    %experts = exec.weight "experts" {columns = 32 : i64, format = "q4_0"} : memref<3x16x18xi8>
    %x64 = exec.scratch : memref<?x64xf32>
    %x64q = exec.scratch : memref<?x104xi8>
    %x32q = exec.scratch : memref<?x52xi8>
    %x16q = exec.scratch : memref<?x52xi8>
    %sel = exec.scratch : memref<?x2xi64>
    %out16 = exec.scratch : memref<?x16xf32>
    %out8 = exec.scratch : memref<?x8xf32>
    %out12 = exec.scratch : memref<?x12xf32>
    %outE = exec.scratch : memref<?x2x16xf32>
    %rows = exec.scratch : memref<?x64xf32>
    exec.dispatch "all" {
      exec.linear %x64q, %q4 into %out16 {first_row = 0 : i64} : memref<?x104xi8>, memref<16x36xi8> into memref<?x16xf32>
      exec.linear %x32q, %q8 into %out8 {first_row = 0 : i64} : memref<?x52xi8>, memref<8x34xi8> into memref<?x8xf32>
      exec.gather_rows %ids, %table into %rows {scale = 1.0 : f32} : memref<?xi32>, memref<16x36xi8>, memref<?x64xf32>
      exec.gather_rows %ids, %gathered into %rows {scale = 1.0 : f32} : memref<?xi32>, memref<16x36xi8>, memref<?x64xf32>
      exec.linear %x64q, %table into %out16 {first_row = 0 : i64} : memref<?x104xi8>, memref<16x36xi8> into memref<?x16xf32>
      exec.linear %x64, %f32x into %out16 {first_row = 0 : i64} : memref<?x64xf32>, memref<16x36xi8> into memref<?x16xf32>
      exec.linear %x16q, %short into %out16 {first_row = 0 : i64} : memref<?x52xi8>, memref<16x18xi8> into memref<?x16xf32>
      exec.linear %x32q, %rows12 into %out12 {first_row = 0 : i64} : memref<?x52xi8>, memref<12x18xi8> into memref<?x12xf32>
      exec.linear %x32q, %band into %out12 {first_row = 4 : i64} : memref<?x52xi8>, memref<16x18xi8> into memref<?x12xf32>
      exec.linear %x32q, %experts experts(%sel) into %outE {first_row = 0 : i64} : memref<?x52xi8>, memref<3x16x18xi8>, memref<?x2xi64> into memref<?x2x16xf32>
    }
    return
  }
}
