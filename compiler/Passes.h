//===- Passes.h - gemc's passes and pipelines --------------------------------===//
#pragma once

#include "dialects/exec/ExecDialect.h"
#include "runtime/common/ExecutionAbi.h"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/GPU/IR/GPUDialect.h>
#include <mlir/Dialect/LLVMIR/LLVMDialect.h>
#include <mlir/Dialect/Math/IR/Math.h>
#include <mlir/Dialect/MemRef/IR/MemRef.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/Dialect/SPIRV/IR/SPIRVDialect.h>
#include <mlir/Dialect/Vector/IR/VectorOps.h>
#include <mlir/Pass/Pass.h>

namespace gemc {

#define GEN_PASS_DECL
#include "compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Passes.h.inc"

/// Module attributes the passes leave: the most tokens per call (form-dispatches), and the
/// planned buffer sizes (plan-buffers).
constexpr const char *kMaxChunkAttr = "exec.max_chunk";
constexpr const char *kWeightBytesAttr = "exec.weight_bytes";
constexpr const char *kKvFixedBytesAttr = "exec.kv_fixed_bytes";
constexpr const char *kKvPerContextBytesAttr = "exec.kv_per_context_bytes";
constexpr const char *kScratchBytesAttr = "exec.scratch_bytes";
/// Left by gemc-lower-dispatches-to-spirv: each kernel's grid, [per token, fixed] workgroups.
constexpr const char *kWorkgroupsAttr = "exec.workgroups";

} // namespace gemc
