//===- AssignWeightFormats.cpp - Puts a quantization config on a gemma module -===//

#include "compiler/quant/AssignWeightFormats.h"

#include "dialects/gemma/GemmaOps.h"

namespace gemc {

void assignWeightFormats(mlir::ModuleOp module, const Checkpoint &checkpoint,
                         const QuantConfig &config) {
  module.walk([&](gemma::WeightOp op) {
    const TensorInfo *tensor = checkpoint.find(op.getName());
    if (!tensor)
      return; // the verifier of the import reports it
    std::optional<WeightFormat> format = config.formatFor(*tensor);
    if (format && *format != op.storedFormat())
      op.setFormat(weightFormatName(*format));
    if (config.int8Activations && quantizesActivations(op.storedFormat()))
      op.setInt8Activations(true);
  });
}

} // namespace gemc
