//===- AssignWeightFormats.cpp - Puts a quantization config on a gemma module -===//

#include "compiler/quant/AssignWeightFormats.h"

#include "dialects/gemma/GemmaOps.h"

namespace gemc {

int64_t assignWeightFormats(mlir::ModuleOp module, const Checkpoint &checkpoint,
                            const QuantConfig &config) {
  int64_t rounding = 0;
  module.walk([&](gemma::WeightOp op) {
    const TensorInfo *tensor = checkpoint.find(op.getName());
    if (!tensor)
      return; // the verifier of the import reports it
    std::optional<WeightFormat> format = config.formatFor(*tensor);
    if (format && *format != op.storedFormat())
      op.setFormat(weightFormatName(*format));
    // Matrices only: a bf16 norm's gain multiplies no projection.
    bool matrix = op.getType().getRank() >= 2;
    if (matrix && roundsActivationsFor(config.activations, op.storedFormat())) {
      op.setActivations(activationFormatName(config.activations));
      ++rounding;
    }
  });
  return rounding;
}

} // namespace gemc
