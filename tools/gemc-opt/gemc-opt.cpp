//===- gemc-opt.cpp - mlir-opt for gemma modules ----------------------------===//

#include "compiler/lowering/LowerGemmaToLoops.h"
#include "dialects/gemma/GemmaDialect.h"

#include <mlir/IR/DialectRegistry.h>
#include <mlir/Tools/mlir-opt/MlirOptMain.h>

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  gemc::gemma::registerModuleDialects(registry);
  gemc::registerLowerGemmaToLoopsPass();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "gemc-opt\n", registry));
}
