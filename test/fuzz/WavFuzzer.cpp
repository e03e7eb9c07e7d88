//===- WavFuzzer.cpp - Fuzzes WAV reading and the log-mel features ---------===//
//
// The input is a whole WAV file. Samples that were read (resampled if the file says another
// rate) go through the log-mel features, so that ASan sees every buffer they touch.

#include "runtime/media/Audio.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<float> samples;
  std::string error;
  if (gemc::readWav(data, size, "fuzz.wav", samples, error))
    (void)gemc::logMelFeatures(samples);
  return 0;
}
