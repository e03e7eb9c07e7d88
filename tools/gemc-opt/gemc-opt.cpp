//===- gemc-opt.cpp - mlir-opt for gemma modules ----------------------------===//

#include "dialects/gemma/GemmaDialect.h"

#include <mlir/IR/DialectRegistry.h>
#include <mlir/Tools/mlir-opt/MlirOptMain.h>

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  gemc::gemma::registerModuleDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "gemc-opt\n", registry));
}
