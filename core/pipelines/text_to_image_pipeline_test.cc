#include "core/pipelines/text_to_image_pipeline.h"

#include <atomic>

#include "common/testing/status_matchers.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = TinyModelForTest(7);
    ASSERT_THAT(model, IsOk());
    model_ = std::make_unique<DiffusionModel>(std::move(*model));
  }
  TextToImageRequest Request(int64_t seed) {
    return {.prompt = "a face with red hair on a blue background",
            .negative_prompt = "",
            .count = 1,
            .steps = 4,
            .guidance_scale = 3.0f,
            .seed = seed};
  }
  std::unique_ptr<DiffusionModel> model_;
};

TEST_F(PipelineTest, SameSeedSameImagesOtherSeedOtherImages) {
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> a, GenerateImages(*model_, Request(1)));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> b, GenerateImages(*model_, Request(1)));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> c, GenerateImages(*model_, Request(2)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].width, 32);  // the tiny VAE's native size
  EXPECT_EQ(a[0].height, 32);
  EXPECT_EQ(a[0].pixels, b[0].pixels);
  EXPECT_NE(a[0].pixels, c[0].pixels);
}

TEST_F(PipelineTest, ImageIOfABatchIsSeedPlusI) {
  TextToImageRequest batch = Request(10);
  batch.count = 3;
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> three, GenerateImages(*model_, batch));
  ASSERT_EQ(three.size(), 3u);
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> alone, GenerateImages(*model_, Request(12)));
  EXPECT_EQ(three[2].pixels, alone[0].pixels);
}

TEST_F(PipelineTest, GuidanceChangesTheResultAndOneDisablesIt) {
  TextToImageRequest plain = Request(3);
  plain.guidance_scale = 1.0f;
  TextToImageRequest guided = Request(3);
  guided.guidance_scale = 6.0f;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto a, GenerateImages(*model_, plain));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto b, GenerateImages(*model_, guided));
  EXPECT_NE(a[0].pixels, b[0].pixels);
}

TEST_F(PipelineTest, ReportsProgressAndHonoursCancel) {
  std::vector<int> steps;
  STAMINA_ASSERT_OK(GenerateImages(*model_, Request(1), [&](const DenoisingProgress& p) {
                      steps.push_back(p.step);
                      EXPECT_EQ(p.total_steps, 4);
                    }).status());
  EXPECT_EQ(steps, (std::vector<int>{1, 2, 3, 4}));

  std::atomic<bool> cancelled{false};
  absl::StatusOr<std::vector<Image>> result = GenerateImages(
      *model_, Request(1),
      [&](const DenoisingProgress& p) {
        if (p.step == 2) cancelled = true;
      },
      &cancelled);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled, HasSubstr("after 2 of 4")));
}

TEST_F(PipelineTest, OtherSizesAndBadRequests) {
  TextToImageRequest wide = Request(1);
  wide.width = 48;
  wide.height = 16;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto images, GenerateImages(*model_, wide));
  EXPECT_EQ(images[0].width, 48);
  EXPECT_EQ(images[0].height, 16);

  TextToImageRequest odd = Request(1);
  odd.width = 33;
  EXPECT_THAT(GenerateImages(*model_, odd),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("width")));
  TextToImageRequest zero = Request(1);
  zero.steps = 0;
  EXPECT_THAT(GenerateImages(*model_, zero),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("steps")));
  TextToImageRequest low = Request(1);
  low.guidance_scale = 0.5f;
  EXPECT_THAT(GenerateImages(*model_, low),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("guidance_scale")));
  TextToImageRequest bad_utf8 = Request(1);
  bad_utf8.prompt = "\xff\xfe";
  EXPECT_THAT(GenerateImages(*model_, bad_utf8),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PipelineTest, SamplersDrawTheirOwnImagesReproducibly) {
  TextToImageRequest ddim = Request(3);
  TextToImageRequest pndm = ddim;
  pndm.sampler = "pndm";
  TextToImageRequest euler = ddim;
  euler.sampler = "euler";
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> a, GenerateImages(*model_, ddim));
  int evaluations = 0;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<Image> b,
      GenerateImages(*model_, pndm,
                     [&](const DenoisingProgress& p) { evaluations = p.total_steps; }));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> b2, GenerateImages(*model_, pndm));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<Image> c, GenerateImages(*model_, euler));
  EXPECT_NE(a[0].pixels, b[0].pixels);
  EXPECT_NE(a[0].pixels, c[0].pixels);
  EXPECT_NE(b[0].pixels, c[0].pixels);
  EXPECT_EQ(b[0].pixels, b2[0].pixels);
  // PNDM evaluates the model once more than the steps asked for.
  EXPECT_EQ(evaluations, pndm.count * (pndm.steps + 1));
  TextToImageRequest unknown = ddim;
  unknown.sampler = "dpm";
  EXPECT_THAT(GenerateImages(*model_, unknown).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sampler")));
}

TEST(ImageTensorTest, RoundTripIsExact) {
  Image image(4, 2);
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<uint8_t>(i * 11);
  }
  torch::Tensor t = ImagesToTensor({image, image});
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 2, 4}));
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_GE(t.min().item<float>(), -1.0f);
  std::vector<Image> back = TensorToImages(t);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].pixels, image.pixels);
}

TEST(DiffusionModelTest, RejectsMismatchedConfigs) {
  DiffusionModelConfig config;
  config.text_encoder = CLIPTextConfig::Tiny();
  config.unet = UNet2DConditionModelConfig::Tiny();
  config.vae = AutoencoderKLConfig::Tiny();
  config.unet.cross_attention_dim = 48;
  auto tokenizer = WordTokenizer::Create({"a"}, 16);
  ASSERT_THAT(tokenizer, IsOk());
  EXPECT_THAT(CreateDiffusionModel(config, std::move(*tokenizer), 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cross_attention_dim")));
  auto long_tokenizer = WordTokenizer::Create({"a"}, 77);
  config.unet.cross_attention_dim = 32;
  EXPECT_THAT(CreateDiffusionModel(config, std::move(*long_tokenizer), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_length")));
}

}  // namespace
}  // namespace stamina::core
