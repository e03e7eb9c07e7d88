//===- TileWeightRows.cpp - Store integer-product weights in row tiles ----===//
//
// A CPU tile of integer dot products reads the same block of 8 (AVX-512; AVX2 4, NEON 2)
// consecutive weight rows at once. In the row layout those are 16 streams (each row's values
// and its scales), 16 bytes from each per block, which the hardware prefetchers do not keep
// fed: a q4_0 decode step read 13 GB/s where a bf16 one reads 21. Stored in row tiles
// (WeightFormat.h), a tile is one sequential stream, its scales one load. This pass marks
// with `tile_rows` each weight that such products (exec.linear of int8 activations over
// whole tiles of its rows) read, and nothing else but gathers of its rows (an embedding
// table that is also the LM head); the artifact writer then stores it so, and the kernels
// read it so. Other weights keep the row layout. It runs before gemc-plan-buffers, on CPU
// targets only.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/lowering/KernelBuilder.h"
#include "dialects/exec/ExecOps.h"

namespace gemc {
#define GEN_PASS_DEF_TILEWEIGHTROWS
#include "compiler/Passes.h.inc"
} // namespace gemc

using namespace mlir;

namespace gemc {
namespace {

/// Output channels (rows of w) that `linear` computes: out's values per token (and slot).
int64_t rowsComputed(exec::LinearOp linear) {
  ArrayRef<int64_t> shape = cast<MemRefType>(linear.getOut().getType()).getShape();
  int64_t rows = 1;
  for (int64_t dim : shape.drop_front(linear.getExperts() ? 2 : 1))
    rows *= dim;
  return rows;
}

/// Whether `weight` is multiplied by int8 activations over whole tiles of `tileRows` of its
/// rows, and read otherwise only by gathers of its rows (an embedding table that is also the
/// LM head), which read row tiles too.
bool onlyIntegerTiles(exec::WeightOp weight, int64_t tileRows) {
  bool multiplied = false;
  for (OpOperand &use : weight->getUses()) {
    if (isa<exec::GatherRowsOp>(use.getOwner()))
      continue;
    auto linear = dyn_cast<exec::LinearOp>(use.getOwner());
    if (!linear || use.get() != linear.getW() ||
        !cast<MemRefType>(linear.getX().getType()).getElementType().isInteger(8) ||
        linear.getFirstRow() % tileRows != 0 || rowsComputed(linear) % tileRows != 0)
      return false;
    multiplied = true;
  }
  return multiplied;
}

struct TileWeightRowsPass : impl::TileWeightRowsBase<TileWeightRowsPass> {
  using TileWeightRowsBase::TileWeightRowsBase;

  void runOnOperation() override {
    std::optional<IntegerDot> dot = parseIntegerDot(integerDot);
    if (!dot) {
      getOperation().emitError("integer-dot must be vnni, maddubs, sdot or none");
      return signalPassFailure();
    }
    getOperation().walk([&](exec::WeightOp weight) {
      int64_t tileRows =
          integerTileRows(weight.weightFormat(), weight.getColumns(), vectorWidth, *dot);
      ArrayRef<int64_t> shape = weight.getType().getShape();
      int64_t matrixRows = shape.size() > 1 ? shape[shape.size() - 2] : 1;
      if (tileRows && matrixRows % tileRows == 0 && onlyIntegerTiles(weight, tileRows))
        weight.setTileRowsAttr(IntegerAttr::get(IntegerType::get(&getContext(), 64), tileRows));
    });
  }
};

} // namespace
} // namespace gemc
