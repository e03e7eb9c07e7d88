//===- GemmaDialect.td - The gemma dialect -------------------*- tablegen -*-===//
//
// The gemma dialect states a Gemma 4 text decoder at the level of its architecture: one op per
// block of gemma4-architecture.md (embedding, PLE, RMSNorm, attention, MLP, MoE, layer scalar,
// LM head). Activations are f32 tensors whose first dimension is the number of tokens in the
// call (dynamic); everything the checkpoint fixes is static. Weights enter as `gemma.weight` ops
// that name a checkpoint tensor: their values never appear in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef GEMMA_DIALECT
#define GEMMA_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Gemma_Dialect : Dialect {
  let name = "gemma";
  let cppNamespace = "::gemc::gemma";
  let summary = "Gemma 4 text decoder at the level of its architecture";
  let useDefaultAttributePrinterParser = 1;
}

def Gemma_RopeKind : I32EnumAttr<"RopeKind", "RoPE frequency scheme", [
    I32EnumAttrCase<"Default", 0, "default">,
    I32EnumAttrCase<"Proportional", 1, "proportional">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::gemc::gemma";
}
def Gemma_RopeKindAttr : EnumAttr<Gemma_Dialect, Gemma_RopeKind, "rope"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // GEMMA_DIALECT
