//===- VisionEncoderTest.cpp - The vision tower in the reference interpreter ===//
//
// refdata/vision-tiny: importVisionEncoder's encode_image, run by the interpreter on each image's
// patches, gives Transformers' projected soft tokens (vision_embeds.f32), from the processor's
// pixel rows and from the PNG files through the runtime's own preprocessing.

#include "compiler/import/ImportCheckpoint.h"
#include "dialects/gemma/GemmaDialect.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/media/Image.h"
#include "test/unit/NumericCompare.h"
#include "test/unit/runtime/media/MediaFiles.h"

#include <gtest/gtest.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/Verifier.h>

namespace gemc {
namespace {

constexpr int64_t kMaxPatches = 630, kPatchValues = 768, kWidth = 64;

class VisionEncoderTest : public ::testing::Test {
protected:
  VisionEncoderTest() {
    mlir::DialectRegistry registry;
    gemma::registerModuleDialects(registry);
    context_.appendDialectRegistry(registry);
    context_.loadAllAvailableDialects();
  }

  /// The soft tokens of one image's patches, by the interpreter.
  std::vector<float> encode(const gemma::Tensor &pixels, const std::vector<int32_t> &positions) {
    llvm::Expected<Checkpoint> checkpoint =
        Checkpoint::open(std::string(GEMC_TEST_DATA_DIR) + "/refdata/vision-tiny");
    EXPECT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
    mlir::OwningOpRef<mlir::ModuleOp> module = importVisionEncoder(context_, *checkpoint);
    EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
    auto encoder = module->lookupSymbol<mlir::func::FuncOp>("encode_image");
    llvm::Expected<gemma::Tensor> tokens = gemma::Interpreter::encodeImage(
        encoder, [&](llvm::StringRef name) { return viewOf(checkpoint->find(name)); }, pixels,
        positions);
    EXPECT_TRUE(bool(tokens)) << llvm::toString(tokens.takeError());
    return tokens ? tokens->data : std::vector<float>();
  }

  mlir::MLIRContext context_;
};

TEST_F(VisionEncoderTest, SoftTokensFromTheProcessorsPatches) {
  std::vector<float> pixels = test::refdataArray<float>("vision-tiny/pixel_values.f32");
  std::vector<int32_t> positions = test::refdataArray<int32_t>("vision-tiny/image_position_ids.i32");
  std::vector<float> expected = test::refdataArray<float>("vision-tiny/vision_embeds.f32");
  size_t next = 0; // the first row of this image's soft tokens in vision_embeds
  for (int64_t image = 0; image < 2; ++image) {
    const int32_t *xy = &positions[image * kMaxPatches * 2];
    int64_t n = 0;
    while (n < kMaxPatches && xy[n * 2] >= 0)
      ++n;
    gemma::Tensor rows({n, kPatchValues});
    std::copy_n(&pixels[image * kMaxPatches * kPatchValues], n * kPatchValues, rows.data.begin());
    std::vector<float> tokens = encode(rows, std::vector<int32_t>(xy, xy + n * 2));
    std::vector<float> reference(expected.begin() + next * kWidth,
                                 expected.begin() + (next + n / 9) * kWidth);
    EXPECT_TRUE(test::allClose(tokens, reference, 1e-4)) << "image " << image;
    next += n / 9;
  }
  EXPECT_EQ(next * kWidth, expected.size());
}

TEST_F(VisionEncoderTest, SoftTokensFromThePngFiles) {
  std::vector<float> expected = test::refdataArray<float>("vision-tiny/vision_embeds.f32");
  size_t next = 0;
  for (const char *name : {"image_0.png", "image_1.png"}) {
    std::vector<uint8_t> bytes = test::refdataBytes(std::string("vision-tiny/") + name);
    ImagePatches patches;
    std::string error;
    ASSERT_TRUE(preprocessImage(bytes.data(), bytes.size(), name, VisionGeometry{16, 3, 70},
                                patches, error))
        << error;
    gemma::Tensor rows({patches.numPatches(), kPatchValues});
    rows.data = patches.pixels;
    std::vector<float> tokens = encode(rows, patches.positions);
    size_t count = tokens.size() / kWidth;
    std::vector<float> reference(expected.begin() + next * kWidth,
                                 expected.begin() + (next + count) * kWidth);
    EXPECT_TRUE(test::allClose(tokens, reference, 1e-4)) << name;
    next += count;
  }
  EXPECT_EQ(next * kWidth, expected.size());
}

} // namespace
} // namespace gemc
