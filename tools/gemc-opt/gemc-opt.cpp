//===- gemc-opt.cpp - mlir-opt for gemc modules ------------------------------===//
//
// Parses, verifies and prints gemma and exec modules, and runs gemc's passes and pipelines
// (gemc-form-dispatches, gemc-plan-buffers, gemc-lower-dispatches-to-cpu, gemc-cpu-pipeline)
// with the upstream ones, for lit tests.
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/Pipelines.h"

#include <mlir/IR/DialectRegistry.h>
#include <mlir/Tools/mlir-opt/MlirOptMain.h>

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  gemc::registerPipelineDialects(registry);
  gemc::registerGemcPassesAndPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "gemc-opt\n", registry));
}
