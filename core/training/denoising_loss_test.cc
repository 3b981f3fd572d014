#include "core/training/denoising_loss.h"

#include <cstdio>

#include "ATen/CPUGeneratorImpl.h"
#include "common/testing/status_matchers.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "core/world/renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::core {
namespace {

struct Batch {
  torch::Tensor pixels;
  torch::Tensor ids;
};

absl::StatusOr<Batch> WorldBatch(const DiffusionModel& model, int n) {
  std::vector<Image> images;
  std::vector<std::string> captions;
  for (int i = 0; i < n; ++i) {
    Sample sample = PretrainingSample(static_cast<uint64_t>(100 + i));
    images.push_back(sample.image);
    captions.push_back(sample.caption);
  }
  Batch batch;
  auto ids = TokenizeBatch(*model.tokenizer, captions);
  if (!ids.ok()) return ids.status();
  batch.ids = *ids;
  batch.pixels = ImagesToTensor(images);
  return batch;
}

TEST(DenoisingLossTest, SameDrawSameLossAndGradientsReachUNetAndTextEncoder) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(3));
  STAMINA_ASSERT_OK_AND_ASSIGN(DDPMScheduler scheduler,
                               DDPMScheduler::Create(model.config.training_scheduler));
  STAMINA_ASSERT_OK_AND_ASSIGN(Batch batch, WorldBatch(model, 2));
  at::Generator generator = at::detail::createCPUGenerator(5);
  STAMINA_ASSERT_OK_AND_ASSIGN(NoiseDraw draw, DrawNoise(model, 2, 32, 32, generator));
  EXPECT_EQ(draw.noise.sizes(), (std::vector<int64_t>{2, 4, 16, 16}));
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor a,
                               DenoisingLoss(model, scheduler, batch.pixels, batch.ids, draw));
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor b,
                               DenoisingLoss(model, scheduler, batch.pixels, batch.ids, draw));
  EXPECT_EQ(a.item<float>(), b.item<float>());
  a.backward();
  EXPECT_GT(model.unet->conv_in->weight.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GT(model.text_encoder->named_parameters()
                .find("text_model.embeddings.token_embedding.weight")
                ->grad()
                .abs()
                .sum()
                .item<float>(),
            0.0f);
  // The VAE is frozen.
  for (const auto& p : model.vae->parameters()) {
    EXPECT_FALSE(p.grad().defined());
  }
  EXPECT_THAT(DrawNoise(model, 2, 33, 32, generator),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

// Acceptance (issue 3): a tiny model overfits one batch; the loss falls at
// least 10x.
TEST(DenoisingLossTest, TinyModelOverfitsOneBatch) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(11));
  STAMINA_ASSERT_OK_AND_ASSIGN(DDPMScheduler scheduler,
                               DDPMScheduler::Create(model.config.training_scheduler));
  STAMINA_ASSERT_OK_AND_ASSIGN(Batch batch, WorldBatch(model, 4));
  at::Generator generator = at::detail::createCPUGenerator(17);
  STAMINA_ASSERT_OK_AND_ASSIGN(NoiseDraw draw, DrawNoise(model, 4, 32, 32, generator));
  std::vector<torch::Tensor> params = model.unet->parameters();
  for (const auto& p : model.text_encoder->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(2e-3).weight_decay(0));
  model.unet->train();
  model.text_encoder->train();
  float first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {  // 10x is reached by ~40
    optimizer.zero_grad();
    STAMINA_ASSERT_OK_AND_ASSIGN(
        torch::Tensor loss, DenoisingLoss(model, scheduler, batch.pixels, batch.ids, draw));
    loss.backward();
    optimizer.step();
    if (step == 0) first = loss.item<float>();
    last = loss.item<float>();
    if (step % 25 == 0) std::printf("step %d loss %.5f\n", step, last);
  }
  EXPECT_LT(last, first / 10.0f) << "first " << first << ", last " << last;
}

}  // namespace
}  // namespace stamina::core
