//===- CpuTarget.cpp - The CPU targets gemc compiles for ------------------===//

#include "targets/cpu/CpuTarget.h"

#include "runtime/common/Error.h"
#include "runtime/common/CpuFeatures.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/ObjCopy/ConfigManager.h>
#include <llvm/ObjCopy/ObjCopy.h>
#include <llvm/Object/Binary.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FileUtilities.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/Target/LLVMIR/Export.h>

#include <fstream>

namespace gemc {

std::vector<std::string> cpuTargetNames() {
  return {"host", "x86-64-v3", "x86-64-v4", "aarch64-neon", "aarch64-dotprod"};
}

bool runsOnHostArchitecture(const CpuTarget &target) {
  auto arch = [](llvm::StringRef triple) { return triple.substr(0, triple.find('-')); };
  return arch(target.triple) == arch(llvm::sys::getProcessTriple());
}

namespace {

/// LLVM's targets, registered once per process.
void initializeLlvmTargets() {
  static const bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
}

/// A target for this machine's architecture: its base CPU and the features of `features` that
/// the runtime can detect, tuned for `tuneCpu`, with 16 f32 lanes where AVX-512 is among them.
CpuTarget detectableTarget(const std::string &name, const std::string &triple,
                           const std::string &tuneCpu, const llvm::StringMap<bool> &features) {
  bool aarch64 = llvm::StringRef(triple).starts_with("aarch64");
  CpuTarget target{name, triple, aarch64 ? "generic" : "x86-64", tuneCpu, "", aarch64 ? 4 : 8};
  std::vector<std::string> detectable;
  for (const auto &feature : features)
    if (feature.getValue() && isDetectableCpuFeature(feature.getKey()))
      detectable.push_back("+" + feature.getKey().str());
  llvm::sort(detectable);
  target.features = llvm::join(detectable, ",");
  if (features.lookup("avx512f"))
    target.vectorWidth = 16;
  return target;
}

} // namespace

/// Whether `target`'s feature list enables `feature`.
static bool hasFeature(const CpuTarget &target, llvm::StringRef feature) {
  llvm::SmallVector<llvm::StringRef> list;
  llvm::StringRef(target.features).split(list, ',');
  return llvm::any_of(list,
                      [&](llvm::StringRef f) { return f.consume_front("+") && f == feature; });
}

std::string bf16DotOf(const CpuTarget &target) {
  if (target.vectorWidth != 16 || !hasFeature(target, "avx512bf16"))
    return "none";
  return llvm::StringRef(target.tuneCpu).starts_with("znver") ? "all" : "decode";
}

std::string integerDotOf(const CpuTarget &target) {
  auto has = [&](llvm::StringRef feature) { return hasFeature(target, feature); };
  bool wide = target.vectorWidth == 16;
  if ((wide && has("avx512vnni")) ||
      (!wide && (has("avxvnni") || (has("avx512vnni") && has("avx512vl")))))
    return "vnni";
  if (wide ? has("avx512bw") : has("avx2"))
    return "maddubs";
  if (has("dotprod"))
    return "sdot";
  return "none";
}

llvm::Expected<CpuTarget> lookupCpuTarget(const std::string &name) {
  // Every feature the CPU level implies is spelled out: the runtime checks the list against
  // the CPU it runs on (runtime/common/CpuFeatures.h).
  constexpr const char *kV3 = "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+sahf,+avx,+avx2,+fma,"
                              "+f16c,+bmi,+bmi2,+lzcnt,+movbe,+xsave";
  if (name == "x86-64-v3")
    return CpuTarget{name, "x86_64-unknown-linux-gnu", "x86-64-v3", "x86-64-v3", kV3, 8};
  if (name == "x86-64-v4")
    return CpuTarget{name, "x86_64-unknown-linux-gnu", "x86-64-v4", "x86-64-v4",
                     std::string(kV3) + ",+avx512f,+avx512bw,+avx512cd,+avx512dq,+avx512vl", 16};
  if (name == "aarch64-neon")
    return CpuTarget{name, "aarch64-unknown-linux-gnu", "generic", "generic", "+neon", 4};
  // Armv8.2's int8 dot product (Cortex-A55/A76 on, Neoverse, Apple M): sdot.
  if (name == "aarch64-dotprod")
    return CpuTarget{name, "aarch64-unknown-linux-gnu", "generic", "generic", "+neon,+dotprod", 4};
  if (name != "host")
    return makeError("--target {}: unknown target; gemc knows host, x86-64-v3, x86-64-v4, "
                     "aarch64-neon and aarch64-dotprod",
                     name);
  // The architecture's base CPU plus exactly the host's features that the runtime can detect
  // (runtime/common/CpuFeatures.h), tuned for the host CPU: an artifact never needs a feature
  // that a loader cannot check before running it.
  return detectableTarget(name, llvm::sys::getProcessTriple(), llvm::sys::getHostCPUName().str(),
                          llvm::sys::getHostCPUFeatures());
}

/// LLVM's target for `triple`, or an error that starts with `what` ("--cpu znver4").
static llvm::Expected<const llvm::Target *> registeredTarget(const llvm::Triple &triple,
                                                             const std::string &what) {
  initializeLlvmTargets();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("{}: {}", what, error);
  return target;
}

/// Every feature LLVM knows for `info`'s architecture, and whether `info` has it.
static llvm::StringMap<bool> featuresOf(const llvm::MCSubtargetInfo &info) {
  llvm::StringMap<bool> features;
  for (const llvm::SubtargetFeatureKV &feature : info.getAllProcessorFeatures())
    features[feature.Key] = info.checkFeatures(std::string("+") + feature.Key);
  return features;
}

llvm::Expected<CpuTarget> withCpuFeatures(const CpuTarget &target, const std::string &list) {
  llvm::Triple triple(target.triple);
  llvm::Expected<const llvm::Target *> llvmTarget = registeredTarget(triple, "--cpu-features");
  if (!llvmTarget)
    return llvmTarget.takeError();
  std::unique_ptr<llvm::MCSubtargetInfo> base(
      (*llvmTarget)->createMCSubtargetInfo(triple, target.cpu, target.features));
  llvm::StringMap<bool> known = featuresOf(*base);
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(list).split(items, ',');
  for (llvm::StringRef item : items) {
    llvm::StringRef name = item.drop_front();
    if (!item.starts_with("+") && !item.starts_with("-"))
      return makeError("--cpu-features: '{}' is not +FEATURE or -FEATURE (e.g. "
                       "+avxvnni,-avx512bf16)",
                       item.str());
    if (!known.contains(name))
      return makeError("--cpu-features: LLVM knows no {} feature '{}' (`llc -mattr=help` lists "
                       "them)",
                       triple.getArchName().str(), name.str());
    if (item.starts_with("+") && !isDetectableCpuFeature(name))
      return makeError("--cpu-features: +{}: the runtime cannot check for it before running "
                       "an artifact, so gemc does not compile for it",
                       name.str());
  }
  std::unique_ptr<llvm::MCSubtargetInfo> info((*llvmTarget)->createMCSubtargetInfo(
      triple, target.cpu, target.features.empty() ? list : target.features + "," + list));
  return detectableTarget(target.name, target.triple, target.tuneCpu, featuresOf(*info));
}

llvm::Expected<CpuTarget> lookupNamedCpu(const std::string &cpu) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  llvm::Expected<const llvm::Target *> target = registeredTarget(triple, "--cpu " + cpu);
  if (!target)
    return target.takeError();
  // Checked on the generic CPU's info first: LLVM warns on stderr about a CPU it does not know.
  std::unique_ptr<llvm::MCSubtargetInfo> generic((*target)->createMCSubtargetInfo(triple, "", ""));
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      generic && generic->isCPUStringValid(cpu) ? (*target)->createMCSubtargetInfo(triple, cpu, "")
                                                : nullptr);
  if (!info)
    return makeError("--cpu {}: LLVM knows no such {} CPU (try znver4, sapphirerapids, "
                     "x86-64-v3; `llc -mcpu=help` lists them)",
                     cpu, triple.getArchName().str());
  return detectableTarget(cpu, triple.str(), cpu, featuresOf(*info));
}

namespace {

/// LLVM's O3 pipeline without its loop unrolling and vectorizers: the lowering emits vector code
/// with the unrolling it wants already, and unrolling its many static loops again only costs
/// compile time (several times over for a model) and code size.
void optimize(llvm::Module &ir, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(ir, modules);
}

} // namespace

llvm::Expected<std::string> emitObject(mlir::ModuleOp module, const CpuTarget &target) {
  initializeLlvmTargets();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, context);
  if (!ir)
    return makeError("cannot translate the lowered module to LLVM IR");
  llvm::Triple triple(target.triple);
  llvm::Expected<const llvm::Target *> llvmTarget =
      registeredTarget(triple, "target " + target.name);
  if (!llvmTarget)
    return llvmTarget.takeError();
  std::unique_ptr<llvm::TargetMachine> machine((*llvmTarget)->createTargetMachine(
      triple, target.cpu, target.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  for (llvm::Function &function : *ir)
    if (!function.isDeclaration())
      function.addFnAttr("tune-cpu", target.tuneCpu);
  ir->setTargetTriple(triple);
  ir->setDataLayout(machine->createDataLayout());
  optimize(*ir, *machine);
  llvm::SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return makeError("target {}: cannot emit an object file", target.name);
  passes.run(*ir);
  return std::string(object.str());
}

llvm::Expected<std::string>
renameSymbols(llvm::StringRef object,
              const std::vector<std::pair<std::string, std::string>> &renames) {
  auto binary = llvm::object::createBinary(llvm::MemoryBufferRef(object, "object"));
  if (!binary)
    return makeError("cannot read the generated object: {}", llvm::toString(binary.takeError()));
  llvm::objcopy::ConfigManager config;
  for (const auto &[from, to] : renames)
    config.Common.SymbolsToRename[from] = to;
  std::string renamed;
  llvm::raw_string_ostream os(renamed);
  if (llvm::Error error = llvm::objcopy::executeObjcopyOnBinary(config, **binary, os))
    return makeError("cannot rename the generated object's symbols: {}",
                     llvm::toString(std::move(error)));
  return renamed;
}

llvm::Expected<std::string> linkSharedObject(llvm::StringRef object) {
  llvm::ErrorOr<std::string> lld = llvm::sys::findProgramByName("ld.lld", {GEMC_LLVM_TOOLS_DIR});
  if (!lld)
    return makeError("cannot find ld.lld (package lld-22) to link the code section");
  llvm::SmallString<128> objectPath, libraryPath;
  if (auto ec = llvm::sys::fs::createTemporaryFile("gemc-code", "o", objectPath))
    return makeError("cannot create a temporary file: {}", ec.message());
  if (auto ec = llvm::sys::fs::createTemporaryFile("gemc-code", "so", libraryPath))
    return makeError("cannot create a temporary file: {}", ec.message());
  llvm::FileRemover removeObject(objectPath), removeLibrary(libraryPath);
  {
    std::ofstream out(objectPath.c_str(), std::ios::binary);
    out.write(object.data(), std::streamsize(object.size()));
  }
  std::string message;
  llvm::StringRef args[] = {*lld, "-shared", "--hash-style=both", "-o", libraryPath, objectPath};
  if (llvm::sys::ExecuteAndWait(*lld, args, std::nullopt, {}, 0, 0, &message) != 0)
    return makeError("linking the code section failed: {}", message);
  auto library = llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false);
  if (!library)
    return makeError("cannot read the linked code section: {}", library.getError().message());
  return (*library)->getBuffer().str();
}

} // namespace gemc
