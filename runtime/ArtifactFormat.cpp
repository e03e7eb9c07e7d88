//===- ArtifactFormat.cpp - The on-disk layout of a gemc artifact ---------===//

#include "runtime/ArtifactFormat.h"

#include <cstring>

namespace gemc {
namespace {
uint64_t mix(uint64_t state, uint64_t word) {
  state ^= word * 0xBF58476D1CE4E5B9ull;
  state = (state << 31) | (state >> 33);
  return state * 0x94D049BB133111EBull;
}
} // namespace

void Checksum64::update(const void *data, size_t size) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  length_ += size;
  while (size > 0 && pendingSize_ > 0 && pendingSize_ < 8) {
    pending_[pendingSize_++] = *bytes++;
    --size;
    if (pendingSize_ == 8) {
      uint64_t word;
      std::memcpy(&word, pending_, 8);
      state_ = mix(state_, word);
      pendingSize_ = 0;
    }
  }
  for (; size >= 8; size -= 8, bytes += 8) {
    uint64_t word;
    std::memcpy(&word, bytes, 8);
    state_ = mix(state_, word);
  }
  std::memcpy(pending_ + pendingSize_, bytes, size);
  pendingSize_ += size;
}

uint64_t Checksum64::value() const {
  uint64_t word = 0;
  std::memcpy(&word, pending_, pendingSize_);
  uint64_t state = mix(mix(state_, word), length_);
  return state ^ (state >> 29);
}

uint64_t checksum64(const void *data, size_t size) {
  Checksum64 sum;
  sum.update(data, size);
  return sum.value();
}

} // namespace gemc
