//===- CpuFeatures.cpp - What the running CPU can execute ------------------===//

#include "runtime/common/CpuFeatures.h"

#include <array>
#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace gemc {
namespace {

/// One feature: which word of the hardware's feature bits holds it, which bit, and which
/// register state the operating system must save for code that uses it (x86 XCR0 bits).
struct FeatureBit {
  const char *name;
  unsigned word;
  unsigned bit;
  uint64_t osState = 0;
};

#if defined(__x86_64__)
// The CPUID words read: leaf 1 ECX/EDX, leaf 7.0 EBX/ECX/EDX, leaf 7.1 EAX/EDX, 0x80000001 ECX/EDX.
enum : unsigned { L1C, L1D, L7B, L7C, L7D, L71A, L71D, E1C, E1D, kWords };
constexpr uint64_t kAvx = 0x6, kAvx512 = 0xE6, kAmx = 0x60006; // XMM|YMM, +opmask|ZMM, +tiles

constexpr FeatureBit kFeatures[] = {
    {"sse3", L1C, 0},          {"pclmul", L1C, 1},         {"ssse3", L1C, 9},
    {"fma", L1C, 12, kAvx},    {"cx16", L1C, 13},          {"sse4.1", L1C, 19},
    {"sse4.2", L1C, 20},       {"movbe", L1C, 22},         {"popcnt", L1C, 23},
    {"aes", L1C, 25},          {"xsave", L1C, 26},         {"avx", L1C, 28, kAvx},
    {"f16c", L1C, 29, kAvx},   {"rdrnd", L1C, 30},         {"cx8", L1D, 8},
    {"cmov", L1D, 15},         {"mmx", L1D, 23},           {"fxsr", L1D, 24},
    {"sse", L1D, 25},          {"sse2", L1D, 26},          {"bmi", L7B, 3},
    {"avx2", L7B, 5, kAvx},    {"bmi2", L7B, 8},           {"avx512f", L7B, 16, kAvx512},
    {"avx512dq", L7B, 17, kAvx512}, {"rdseed", L7B, 18},   {"adx", L7B, 19},
    {"avx512ifma", L7B, 21, kAvx512}, {"clflushopt", L7B, 23}, {"clwb", L7B, 24},
    {"avx512cd", L7B, 28, kAvx512}, {"sha", L7B, 29},      {"avx512bw", L7B, 30, kAvx512},
    {"avx512vl", L7B, 31, kAvx512}, {"avx512vbmi", L7C, 1, kAvx512},
    {"avx512vbmi2", L7C, 6, kAvx512}, {"gfni", L7C, 8},    {"vaes", L7C, 9, kAvx},
    {"vpclmulqdq", L7C, 10, kAvx}, {"avx512vnni", L7C, 11, kAvx512},
    {"avx512bitalg", L7C, 12, kAvx512}, {"avx512vpopcntdq", L7C, 14, kAvx512},
    {"avx512vp2intersect", L7D, 8, kAvx512}, {"amx-bf16", L7D, 22, kAmx},
    {"avx512fp16", L7D, 23, kAvx512}, {"amx-tile", L7D, 24, kAmx}, {"amx-int8", L7D, 25, kAmx},
    {"avxvnni", L71A, 4, kAvx}, {"avx512bf16", L71A, 5, kAvx512}, {"amx-fp16", L71A, 21, kAmx},
    {"avxifma", L71A, 23, kAvx}, {"avxvnniint8", L71D, 4, kAvx}, {"avxneconvert", L71D, 5, kAvx},
    {"avxvnniint16", L71D, 10, kAvx}, {"sahf", E1C, 0},     {"lzcnt", E1C, 5},
    {"sse4a", E1C, 6},         {"prfchw", E1C, 8},         {"xop", E1C, 11, kAvx},
    {"fma4", E1C, 16, kAvx},   {"tbm", E1C, 21},           {"64bit", E1D, 29},
};

std::array<uint32_t, kWords> readFeatureWords() {
  std::array<uint32_t, kWords> w{};
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d))
    w[L1C] = c, w[L1D] = d;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    w[L7B] = b, w[L7C] = c, w[L7D] = d;
    if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
      w[L71A] = a, w[L71D] = d;
  }
  if (__get_cpuid(0x80000001, &a, &b, &c, &d))
    w[E1C] = c, w[E1D] = d;
  return w;
}

/// The register state the operating system saves (XCR0); 0 without OSXSAVE.
uint64_t osSavedState(const std::array<uint32_t, kWords> &w) {
  if (!(w[L1C] & (1u << 27)))
    return 0;
  uint32_t low, high;
  __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (uint64_t(high) << 32) | low;
}
#elif defined(__aarch64__)
enum : unsigned { HWCAP1, HWCAP2, kWords };

constexpr FeatureBit kFeatures[] = {
    {"fp-armv8", HWCAP1, 0}, {"neon", HWCAP1, 1},       {"aes", HWCAP1, 3},
    {"sha2", HWCAP1, 6},     {"crc", HWCAP1, 7},        {"lse", HWCAP1, 8},
    {"fullfp16", HWCAP1, 10}, {"rdm", HWCAP1, 12},      {"jsconv", HWCAP1, 13},
    {"complxnum", HWCAP1, 14}, {"rcpc", HWCAP1, 15},    {"dotprod", HWCAP1, 20},
    {"sve", HWCAP1, 22},     {"fp16fml", HWCAP1, 23},   {"sve2", HWCAP2, 1},
    {"i8mm", HWCAP2, 13},    {"bf16", HWCAP2, 14},
};

std::array<uint32_t, kWords> readFeatureWords() {
  return {uint32_t(getauxval(AT_HWCAP)), uint32_t(getauxval(AT_HWCAP2))};
}

uint64_t osSavedState(const std::array<uint32_t, kWords> &) { return 0; }
#else
constexpr FeatureBit kFeatures[] = {{"", 0, 0}};
std::array<uint32_t, 1> readFeatureWords() { return {0}; }
uint64_t osSavedState(const std::array<uint32_t, 1> &) { return 0; }
#endif

CpuFeatureSet detectHostFeatures() {
  auto words = readFeatureWords();
  uint64_t osState = osSavedState(words);
  CpuFeatureSet present;
  for (const FeatureBit &f : kFeatures)
    if (*f.name && (words[f.word] >> f.bit & 1) && (osState & f.osState) == f.osState)
      present.insert(f.name);
  return present;
}

} // namespace

const CpuFeatureSet &hostCpuFeatures() {
  static const CpuFeatureSet features = detectHostFeatures();
  return features;
}

bool isDetectableCpuFeature(std::string_view name) {
  for (const FeatureBit &f : kFeatures)
    if (*f.name && name == f.name)
      return true;
  return false;
}

std::string whyCpuCannotRun(std::string_view features, const CpuFeatureSet &host) {
  while (!features.empty()) {
    size_t comma = features.find(',');
    std::string_view item = features.substr(0, comma);
    features = comma == std::string_view::npos ? "" : features.substr(comma + 1);
    if (item.size() < 2 || item[0] != '+')
      continue; // a disabled feature asks nothing of the CPU
    std::string name(item.substr(1));
    if (!isDetectableCpuFeature(name))
      return "needs CPU feature " + name + ", which this runtime cannot check";
    if (!host.count(name))
      return "needs " + name + ", and this CPU lacks it";
  }
  return "";
}

} // namespace gemc
