//===- KernelBuilder.h - Loops and vector ops of gemc's CPU kernels --------===//
//
// KernelBuilder emits the memref-level code that the gemma lowering is made of: counted scf
// loops, vector loads that widen bf16/f16 weights to f32 in registers, dot products, the
// matrix-vector product every projection uses, and elementwise maps. Every shape but the token
// count is static, so loop bounds and vector tails are constants: a row of n values is processed
// in chunks of `vectorWidth` lanes and then a constant tail of vector<1> chunks, with no masks.
//
// Weight rows may be quantized (WeightRows): the kernels decode them a chunk at a time in
// registers (int8 or 4-bit values widened to f32 and multiplied by their block's scale) and
// never materialize a dequantized matrix. Rows are walked a block of 32 columns per loop step,
// the block's scale loaded once per step and each decoded chunk shared by every token the
// kernel handles at once.
//
// Int8 activations (WeightFormat.h) times q8_0 or q4_0 rows of whole blocks take integer tiles
// instead: four byte products summed into each i32 lane by the CPU's dot product instruction
// (IntegerDot), a group of rows side by side in one vector, scaled into f32 block by block.
// Bf16 activations times bf16 rows of whole blocks take vdpbf16ps where the CPU has it (two
// exact products of bf16 pairs added into each f32 lane), and otherwise the f32 products of the
// widened values, which are the same products.
//
// A CPU kernel runs on every worker thread at once. Work-sharing helpers (linear, map,
// rmsNormRows, share) give each worker its contiguous slice of the rows; dependent steps go in
// separate dispatches, which the runtime separates with a barrier.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/WeightFormat.h"

#include <mlir/Dialect/MemRef/IR/MemRef.h>
#include <mlir/IR/ImplicitLocOpBuilder.h>

namespace gemc {

/// A weight as the kernels read it: rows of `columns` values stored in `format`. A float format
/// is a memref of its element type [..., columns]; a quantized one is a byte memref
/// [..., rowBytes(format, columns)] in WeightFormat.h's row layout.
struct WeightRows {
  mlir::Value data;
  WeightFormat format;
  int64_t columns;
  /// Rows stored in tiles of this many (WeightFormat.h's row tiles; 0: the row layout). Then
  /// `data` is a view [..., rows / tileRows, tileRows * rowBytes], one tile a row.
  int64_t tileRows = 0;
};

/// One chunk of decoded weight rows walked together: for each row, f32 `values`
/// (vector<vectorWidth> or vector<1>) of the columns from `column` on, which is `offset` columns
/// into its block of 32.
struct RowChunk {
  mlir::Value column;
  int64_t offset;
  mlir::SmallVector<mlir::Value, 4> values;
};

/// The instruction that multiplies int8 activations by quantized weights, four byte products
/// summed into each i32 lane.
enum class IntegerDot {
  None,    // generic vector code: bytes widened to i32, multiplied, four lanes added
  Vnni,    // x86 vpdpbusd (AVX512-VNNI, AVX-VNNI): u8 x s8
  Maddubs, // x86 vpmaddubsw + vpmaddwd (AVX2, AVX512BW): u8 x s8, pairs saturate at i16
  Sdot,    // aarch64 sdot (dotprod): s8 x s8
};
/// "vnni", "maddubs", "sdot", "none".
std::optional<IntegerDot> parseIntegerDot(llvm::StringRef name);
/// The rows of a tile of integer dot products (KernelBuilder::integerDots: two groups of
/// vectorWidth / 4 rows side by side) of int8 activations and `format` rows of `columns`
/// values, or 0 where such a product takes the f32 products of the decoded values instead.
int64_t integerTileRows(WeightFormat format, int64_t columns, int64_t vectorWidth,
                        IntegerDot dot);

/// Which calls multiply bf16 activations by bf16 weights with AVX512-BF16's vdpbf16ps (the
/// others widen both to f32 and use FMAs: the same products). vdpbf16ps does 32 multiplies to
/// an FMA's 16, but Sapphire Rapids issues one every 2 cycles against two FMAs a cycle
/// (measured), so there it pays only in decode steps, which wait for memory either way.
enum class Bf16Dot {
  None,   // no vdpbf16ps
  Decode, // calls of fewer than 16 tokens (Intel)
  All,    // every call (AMD Zen 4 and 5)
};
/// "none", "decode", "all".
std::optional<Bf16Dot> parseBf16Dot(llvm::StringRef name);

class KernelBuilder {
public:
  /// `bf16Dot` needs 16 lanes.
  KernelBuilder(mlir::ImplicitLocOpBuilder &builder, int64_t vectorWidth,
                IntegerDot integerDot = IntegerDot::None, Bf16Dot bf16Dot = Bf16Dot::None)
      : b_(builder), vectorWidth_(vectorWidth), integerDot_(integerDot),
        bf16Dot_(vectorWidth == 16 ? bf16Dot : Bf16Dot::None) {}

  /// The worker running this code and the number of workers (index values).
  void setWorkers(mlir::Value worker, mlir::Value workers) {
    worker_ = worker;
    workers_ = workers;
  }
  /// This worker's slice [begin, end) of [0, count).
  std::pair<mlir::Value, mlir::Value> share(mlir::Value count);

  mlir::ImplicitLocOpBuilder &builder() { return b_; }
  mlir::Value index(int64_t value);
  mlir::Value f32(double value);
  /// `value` broadcast to `type` (a vector of f32), or `value` itself for a scalar type.
  mlir::Value splat(mlir::Value value, mlir::Type type);

  /// for (i = lower; i < upper; i += step) body(i)
  void loop(mlir::Value lower, mlir::Value upper, int64_t step,
            llvm::function_ref<void(mlir::Value)> body);
  void loop(int64_t count, llvm::function_ref<void(mlir::Value)> body) {
    loop(index(0), index(count), 1, body);
  }
  /// A loop carrying values: body(i, carried) returns the next carried values.
  mlir::SmallVector<mlir::Value>
  loopCarrying(mlir::Value lower, mlir::Value upper, int64_t step, mlir::ValueRange initial,
               llvm::function_ref<mlir::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)>
                   body);

  /// Calls body(i, type) for i covering [0, count): vector<vectorWidth x f32> chunks, then
  /// vector<1 x f32> chunks for the tail.
  void chunks(int64_t count, llvm::function_ref<void(mlir::Value, mlir::VectorType)> body);
  /// Loads `type`'s lanes from memref[prefix..., i], widened to f32.
  mlir::Value load(mlir::Value memref, mlir::ValueRange prefix, mlir::Value i,
                   mlir::VectorType type);
  void store(mlir::Value vector, mlir::Value memref, mlir::ValueRange prefix, mlir::Value i);
  /// Whether a memref holds bytes (quantized weights or activations).
  static bool isInt8(mlir::Value memref);
  /// `type`'s lanes of int8 activations (WeightFormat.h) from row `prefix`, column i, as the
  /// f32 values they stand for.
  mlir::Value loadActivations(mlir::Value rows, mlir::ValueRange prefix, mlir::Value i,
                              mlir::VectorType type);
  /// Rounds each of this worker's rows of f32 [R, columns] `x` to int8 activations, the byte
  /// rows [R, activationRowBytes(columns)] of `out`.
  void quantizeRows(mlir::Value x, mlir::Value out, int64_t columns);
  /// Rounds each of this worker's rows of f32 [R, columns] `x` to bf16 (to nearest, ties to
  /// even, as WeightFormat.h's bf16), the rows of bf16 [R, columns] `out`.
  void roundRowsToBf16(mlir::Value x, mlir::Value out, int64_t columns);
  /// The bf16 bits (i16, scalar or vector) of f32 `values` rounded to nearest, ties to even,
  /// as WeightFormat.h rounds them.
  mlir::Value roundToBf16Bits(mlir::Value values);
  /// A float memref (f32, bf16 or f16) as weight rows of its last dimension.
  WeightRows plainRows(mlir::Value memref);
  /// Whole blocks of 32 columns [firstBlock, endBlock), and with `rowEnd` the short block that
  /// ends the row, if any.
  struct BlockRange {
    mlir::Value firstBlock, endBlock;
    bool rowEnd;
  };
  using ChunkBody =
      llvm::function_ref<void(const RowChunk &, mlir::SmallVectorImpl<mlir::Value> &)>;
  /// Walks the columns of rows `rows` of `w` together, a loop step per block of 32 columns:
  /// whole blocks [firstBlock, endBlock), then, with `rowEnd`, the row's short last block (if
  /// it has one), unrolled after the loop. body(chunk, state) gets each decoded chunk of every
  /// row and may replace the values of `state`, which the loop carries. Returns the final state.
  mlir::SmallVector<mlir::Value> walkRows(const WeightRows &w,
                                          llvm::ArrayRef<mlir::SmallVector<mlir::Value>> rows,
                                          const BlockRange &blocks, mlir::ValueRange initial,
                                          ChunkBody body);
  /// Every column of a row of `w`.
  BlockRange wholeRow(const WeightRows &w);
  /// All columns of one row.
  mlir::SmallVector<mlir::Value> walkRow(const WeightRows &w, mlir::ValueRange row,
                                         mlir::ValueRange initial, ChunkBody body);
  /// For each row r of `bRows` and each prefix p of a (r-major): sum_i a[p..., i] * b[r..., i]
  /// over the columns of `blocks`, as f32 scalars; every chunk of b is loaded and decoded once
  /// for all of them, and each pair has its own `chains` accumulators, so a tile of rows x
  /// tokens is computed in registers.
  mlir::SmallVector<mlir::Value> dots(mlir::Value a,
                                      llvm::ArrayRef<mlir::SmallVector<mlir::Value>> aPrefixes,
                                      const WeightRows &b,
                                      llvm::ArrayRef<mlir::SmallVector<mlir::Value>> bRows,
                                      const BlockRange &blocks, int64_t chains);
  /// sum_i a[aPrefix..., i] * b[bPrefix..., i] over the last dimension of the float memref b.
  mlir::Value dot(mlir::Value a, mlir::ValueRange aPrefix, mlir::Value b,
                  mlir::ValueRange bPrefix);
  /// The tokens of a linear that gathers them: `count` tokens, token i reading row
  /// rowsOf(i).first of x and writing row rowsOf(i).second of out.
  struct GatheredTokens {
    mlir::Value count;
    llvm::function_ref<std::pair<mlir::Value, mlir::Value>(mlir::Value)> rowsOf;
  };
  /// out[t, o] = sum_i x[t, i] * w[wPrefix..., firstRow + o, i] for every row t of x (or each
  /// gathered token) and o < numRows; this worker computes its share of o. x and out are f32
  /// [T, n].
  void linear(mlir::Value x, const WeightRows &w, mlir::ValueRange wPrefix, int64_t firstRow,
              int64_t numRows, mlir::Value out, const GatheredTokens *gathered = nullptr);
  /// if (condition) thenBody() else elseBody()
  void ifElse(mlir::Value condition, llvm::function_ref<void()> thenBody,
              llvm::function_ref<void()> elseBody);
  /// How linear tiles its work: output channels x tokens computed together in registers, and
  /// the columns of a pass (a multiple of 32 dividing the row, or the whole row) when a call
  /// has 16 tokens or more (with fewer, every row streams whole).
  struct LinearTiling {
    int64_t rows, tokens, columns;
  };
  LinearTiling linearTiling(int64_t rowColumns, bool integer) const;
  /// dst[r, i] = fn(src rows...) for this worker's rows r and i < width; `sources` and `dst`
  /// are f32 [R, width] (dst may be one of them). fn gets the loaded chunks and the row.
  void map(mlir::ValueRange sources, mlir::Value dst, int64_t width,
           llvm::function_ref<mlir::Value(mlir::ValueRange, mlir::Value)> fn);
  /// dst = RMSNorm of each of this worker's rows of f32 [R, width] `src`, times gain[i] if
  /// given (dst may be src).
  void rmsNormRows(mlir::Value src, mlir::Value dst, int64_t width, mlir::Value gain, double eps);

  /// RoPE's inverse frequencies theta^(-2c/headDim) for c < rotated, each as two floats whose
  /// sum is its double value (double-float), for ropeAngle.
  static void ropeInverseFrequencies(double theta, int64_t headDim, int64_t rotated,
                                     llvm::SmallVectorImpl<float> &hi,
                                     llvm::SmallVectorImpl<float> &lo);
  /// position * (invFreqHi + invFreqLo) reduced modulo 2 pi, on f32 scalars or vectors, within
  /// a few 1e-7 rad of the exact angle below position 2^24 (every target computes it so).
  mlir::Value ropeAngle(mlir::Value position, mlir::Value invFreqHi, mlir::Value invFreqLo);

  /// A weight memref [..., rows, rowBytes] stored in tiles of `tileRows` rows as the view
  /// [..., rows / tileRows, tileRows * rowBytes]: a tile a row (WeightRows::tileRows).
  mlir::Value tileView(mlir::Value memref, int64_t tileRows);
  /// The number of rows (dimension 0) of a memref.
  mlir::Value rows(mlir::Value memref);
  /// A [rows * ..., last] view of a memref of rank >= 2 with dynamic dimension 0.
  mlir::Value flattenRows(mlir::Value memref);

private:
  /// A block's scale and (q4_1) minimum as f32 scalars; q8_ch has one scale per row.
  struct BlockScales {
    mlir::Value scale, minimum;
  };
  BlockScales loadScales(const WeightRows &w, mlir::ValueRange row, mlir::Value block);
  /// `width` values of a row from `column`, which is `offset` columns into its block, as f32.
  mlir::Value decodeChunk(const WeightRows &w, mlir::ValueRange row, mlir::Value block,
                          mlir::Value column, int64_t offset, int64_t width,
                          const BlockScales &scales);
  /// 4-bit codes of `bytes` (low nibbles for values 0-15 of a block, `offset` < 16) as f32:
  /// q4_0's minus 8, q4_1's as they are.
  mlir::Value nibblesToFloat(WeightFormat format, mlir::Value bytes, int64_t offset,
                             mlir::VectorType type);
  /// For rows in tiles: the tile view's row that holds `row`, and row's position in it.
  std::pair<mlir::SmallVector<mlir::Value>, mlir::Value> rowOfTile(const WeightRows &w,
                                                                   mlir::ValueRange row);
  /// `count` bytes of block `block`'s values of `row` from byte `byte` (within one piece of 16)
  /// of a weight in row tiles.
  mlir::Value loadTiledValues(const WeightRows &w, mlir::ValueRange row, mlir::Value block,
                              int64_t byte, int64_t count);
  /// vector<count x i8> from byte `byte` of a row of a byte memref.
  mlir::Value loadBytes(mlir::Value memref, mlir::ValueRange row, mlir::Value byte,
                        int64_t count);

  /// Whether linear multiplies int8 activations `x` by `w` with integer tiles.
  bool integerTiles(mlir::Value x, const WeightRows &w) const;
  /// The integer form of dots() for whole row groups of vectorWidth / 4 rows (q8_0 or q4_0
  /// rows of whole blocks) and rows of int8 activations: each i32 lane sums the products of
  /// four bytes, a group's rows side by side in one vector, scaled into f32 accumulators
  /// block by block. Sums in dots()'s order: row-major, then token.
  mlir::SmallVector<mlir::Value>
  integerDots(mlir::Value a, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> aPrefixes,
              const WeightRows &w, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> wRows,
              mlir::Value firstBlock, mlir::Value endBlock);
  struct IntegerScheme;
  IntegerScheme integerScheme(WeightFormat format) const;
  /// A block's two halves (values 0-15, 16-31) of each of `rows` (group `group` of a tile),
  /// side by side, as the scheme multiplies them. `tile`: the tile's row of a tile view.
  std::pair<mlir::Value, mlir::Value>
  weightHalves(const WeightRows &w, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> rows,
               mlir::ValueRange tile, int64_t group, mlir::Value block,
               const IntegerScheme &scheme);
  /// Bytes of one block of a row tile (its scales and values).
  static int64_t tileBlockBytes(const WeightRows &w);
  /// Asks the cache for the values of each of `rows` (a float format) 1 KiB past block
  /// `block`.
  void prefetchRowsAhead(const WeightRows &w, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> rows,
                         mlir::Value block);
  /// Asks the cache for the bytes of a row tile (or the next tile) 1 KiB past block `block`.
  void prefetchTileAhead(const WeightRows &w, mlir::ValueRange tile, mlir::Value block);
  /// The f32 scales of block `block` of every row of a row tile, in row order.
  mlir::Value tileScales(const WeightRows &w, mlir::ValueRange tile, mlir::Value block);
  /// Half `first` (0 or 16) of a block of a row of int8 activations, once per row of a group.
  mlir::Value activationHalf(mlir::Value a, mlir::ValueRange prefix, mlir::Value block,
                             int64_t first);
  /// The f32 scale of block `block` of a row of int8 activations.
  mlir::Value loadActivationScale(mlir::Value rows, mlir::ValueRange prefix, mlir::Value block);
  /// Where block `block`'s corrections start in a row of int8 activations `rows`.
  mlir::Value correctionsByte(mlir::Value rows, mlir::Value block);
  /// Stores the corrections of block `block` of row `r` of int8 activations `out` (WeightFormat.h)
  /// from its stored values.
  void storeCorrections(mlir::Value out, mlir::Value r, mlir::Value block);
  /// The i32 lanes that correct a block's dot products of unsigned weights stored with
  /// `offset` (q4_0: 8, q8_0: 128) with the activation row `a` at `prefix`.
  mlir::Value offsetCorrection(mlir::Value a, mlir::ValueRange prefix, mlir::Value block,
                               int64_t offset);
  /// acc + a block's products of the weight halves w and the activation halves a.
  mlir::Value halvesDot(mlir::Value acc, std::pair<mlir::Value, mlir::Value> w,
                        std::pair<mlir::Value, mlir::Value> a, const IntegerScheme &scheme);
  /// acc + the products of u (unsigned bytes for Vnni and Maddubs, signed otherwise) and s
  /// (signed bytes), four adjacent products summed into each i32 lane.
  mlir::Value dot4(mlir::Value acc, mlir::Value u, mlir::Value s);
  /// The vdpbf16ps form of dots() for bf16 activations `a` and bf16 rows of whole blocks:
  /// each (row, token) pair accumulates 16 f32 lanes, each adding the exact products of two
  /// adjacent columns per block, reduced at the end. Sums in dots()'s order: row-major, then
  /// token.
  mlir::SmallVector<mlir::Value>
  bf16Dots(mlir::Value a, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> aPrefixes,
           const WeightRows &w, llvm::ArrayRef<mlir::SmallVector<mlir::Value>> wRows,
           mlir::Value firstBlock, mlir::Value endBlock);
  /// A call of the LLVM intrinsic `name` (an instruction MLIR's dialects do not name).
  mlir::Value intrinsic(mlir::Type type, llvm::StringRef name, mlir::ValueRange args);
  /// `value` in every byte of a vector of 4 * vectorWidth bytes.
  mlir::Value byteSplat(int64_t value);
  /// `count` bytes of each of `rows` from byte `byte`, side by side.
  mlir::Value loadSideBySide(mlir::Value memref,
                             llvm::ArrayRef<mlir::SmallVector<mlir::Value>> rows, mlir::Value byte,
                             int64_t count);
  /// `scalars`, each repeated over lanes / scalars.size() consecutive lanes of a vector<lanes>.
  mlir::Value spread(llvm::ArrayRef<mlir::Value> scalars, int64_t lanes);

  mlir::ImplicitLocOpBuilder &b_;
  int64_t vectorWidth_;
  IntegerDot integerDot_;
  Bf16Dot bf16Dot_;
  mlir::Value worker_, workers_;
};

} // namespace gemc
