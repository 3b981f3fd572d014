#include "core/training/concept_trainer.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/status_macros.h"
#include "common/testing/status_matchers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "core/world/renderer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

std::vector<Image> ConceptImages(uint64_t identity) {
  const FaceIdentity face = FaceIdentity::FromSeed(kReservedIdentitySeedStart + identity);
  std::vector<Image> images;
  for (uint64_t i = 0; i < 3; ++i) {
    images.push_back(RenderFace(face, RenderParams::FromSeed(i)));
  }
  return images;
}

std::map<std::string, torch::Tensor> Weights(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> weights;
  for (const auto& item : module.named_parameters()) {
    weights[item.key()] = item.value().detach().clone();
  }
  return weights;
}

bool SameWeights(torch::nn::Module& a, torch::nn::Module& b) {
  const auto want = Weights(b);
  for (const auto& [name, weight] : Weights(a)) {
    if (!torch::equal(weight, want.at(name))) return false;
  }
  return true;
}

// A model that learns `concepts` concepts one after another with `config`.
struct Sequence {
  DiffusionModel model;
  ContinualState state;
  std::vector<AdapterArtifact> artifacts;
};

absl::StatusOr<Sequence> Learn(const AdapterConfig& config, int concepts, int steps) {
  Sequence run;
  STAMINA_ASSIGN_OR_RETURN(run.model, TinyModelForTest(4));
  STAMINA_ASSIGN_OR_RETURN(run.state, ContinualState::Create(run.model.unet, config.targets));
  for (int t = 0; t < concepts; ++t) {
    ConceptTrainingRequest request;
    request.adapter = {.config = config,
                       .token = "<id" + std::to_string(t) + ">",
                       .seed = static_cast<uint64_t>(100 + t)};
    request.images = ConceptImages(t);
    request.training.steps = steps;
    request.training.batch_size = 2;
    STAMINA_ASSIGN_OR_RETURN(ConceptTrainingResult result,
                             TrainConcept(run.model, run.state, request));
    STAMINA_RETURN_IF_ERROR(FoldAdapterArtifact(result.artifact, run.model, run.state));
    run.artifacts.push_back(result.artifact);
  }
  return run;
}

AdapterConfig Config(AdapterMethod method) {
  AdapterConfig config = DefaultAdapterConfig(method);
  config.rank = 2;
  return config;
}

// One STAMINA concept (token <p>, seed 1, the first identity's images) on a
// fresh test model, the request shaped by `adjust`.
absl::StatusOr<ConceptTrainingResult> TrainFresh(
    const std::function<void(ConceptTrainingRequest&)>& adjust,
    const std::function<void(const ConceptTrainingProgress&)>& progress = nullptr) {
  STAMINA_ASSIGN_OR_RETURN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSIGN_OR_RETURN(ContinualState state,
                           ContinualState::Create(model.unet, {"attn2.to_k", "attn2.to_v"}));
  ConceptTrainingRequest request;
  request.adapter = {.config = Config(AdapterMethod::kStamina), .token = "<p>", .seed = 1};
  request.images = ConceptImages(0);
  adjust(request);
  return TrainConcept(model, state, request, progress);
}

TEST(ConceptTrainerTest, CLoraWithoutRegularizationIsSequentialLora) {
  AdapterConfig clora = Config(AdapterMethod::kCLora);
  clora.clora_lambda = 0;
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence lora, Learn(Config(AdapterMethod::kLora), 3, 4));
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence zero, Learn(clora, 3, 4));
  EXPECT_TRUE(SameWeights(*zero.model.unet, *lora.model.unet));
  EXPECT_TRUE(SameWeights(*zero.model.text_encoder, *lora.model.text_encoder));
  // With λ > 0 the penalty acts from the second concept on.
  clora.clora_lambda = 1e9;
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence regularized, Learn(clora, 3, 4));
  EXPECT_FALSE(SameWeights(*regularized.model.unet, *lora.model.unet));
}

TEST(ConceptTrainerTest, StaminaWithoutMaskAndWithDirectTokenIsSequentialLora) {
  AdapterConfig stamina = Config(AdapterMethod::kStamina);
  stamina.mask = false;
  stamina.token = TokenKind::kDirect;
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence lora, Learn(Config(AdapterMethod::kLora), 2, 4));
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence unmasked, Learn(stamina, 2, 4));
  EXPECT_TRUE(SameWeights(*unmasked.model.unet, *lora.model.unet));
  EXPECT_TRUE(SameWeights(*unmasked.model.text_encoder, *lora.model.text_encoder));

  // An always-on mask (M = 1, no sparsity pressure) computes the same
  // change through the dense masked path: equal up to float rounding.
  stamina.mask = true;
  stamina.mask_init_bias = 1e4;
  stamina.sparsity = MaskSparsity::kNone;
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence all_on, Learn(stamina, 2, 4));
  const auto want = Weights(*lora.model.unet);
  for (const auto& [name, weight] : Weights(*all_on.model.unet)) {
    EXPECT_LT((weight - want.at(name)).abs().max().item<float>(), 1e-5) << name;
  }
}

TEST(ConceptTrainerTest, TenStaminaTasksTouchOnlyAdaptedLayersAndReplayBitForBit) {
  AdapterConfig config = Config(AdapterMethod::kStamina);
  config.sparsity_weight = 1.0;
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel base, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence run, Learn(config, 10, 3));
  const auto before = Weights(*base.unet);
  for (const auto& [name, weight] : Weights(*run.model.unet)) {
    const bool adapted = name.find("attn2.to_k.weight") != std::string::npos ||
                         name.find("attn2.to_v.weight") != std::string::npos;
    EXPECT_EQ(torch::equal(weight, before.at(name)), !adapted) << name;
  }
  EXPECT_TRUE(SameWeights(*run.model.vae, *base.vae));

  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(base.unet, config.targets));
  for (const AdapterArtifact& artifact : run.artifacts) {
    STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeAdapterArtifact(artifact));
    STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact stored, ParseAdapterArtifact(bytes));
    STAMINA_ASSERT_OK(FoldAdapterArtifact(stored, base, state));
  }
  EXPECT_TRUE(SameWeights(*base.unet, *run.model.unet));
  EXPECT_TRUE(SameWeights(*base.text_encoder, *run.model.text_encoder));
  EXPECT_EQ(state.concepts_folded(), 10);
}

TEST(ConceptTrainerTest, DeterministicForASeedAndReportsProgress) {
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence a, Learn(Config(AdapterMethod::kStamina), 1, 3));
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence b, Learn(Config(AdapterMethod::kStamina), 1, 3));
  EXPECT_TRUE(SameWeights(*a.model.unet, *b.model.unet));

  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(model.unet, {"attn2.to_k", "attn2.to_v"}));
  ConceptTrainingRequest request;
  request.adapter = {.config = Config(AdapterMethod::kStamina), .token = "<p>", .seed = 1};
  request.images = ConceptImages(0);
  request.training.steps = 4;
  std::vector<int> steps;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ConceptTrainingResult result,
      TrainConcept(model, state, request, [&](const ConceptTrainingProgress& p) {
        steps.push_back(p.step);
        EXPECT_EQ(p.total_steps, 4);
        EXPECT_GT(p.loss, 0);
      }));
  EXPECT_EQ(steps, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_GT(result.trainable_parameters, 0);
  EXPECT_EQ(result.artifact.metadata.at("steps"), "4");
  for (const auto& [layer, density] : result.mask_density) {
    EXPECT_GT(density, 0.5) << layer;  // b starts at +2: masks start mostly on
  }
}

TEST(ConceptTrainerTest, LearnsTheConcept) {
  // The denoising loss on the concept's own images, at fixed noise, falls
  // as the adapter and token train.
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(model.unet, {"attn2.to_k", "attn2.to_v"}));
  ConceptTrainingRequest request;
  request.adapter = {.config = Config(AdapterMethod::kStamina), .token = "<p>", .seed = 1};
  request.images = ConceptImages(1);
  request.training.steps = 60;
  request.training.max_shift = 0;
  request.training.flip = false;
  std::vector<double> losses;
  STAMINA_ASSERT_OK(TrainConcept(model, state, request, [&](const ConceptTrainingProgress& p) {
                      losses.push_back(p.loss);
                    }).status());
  double first = 0, last = 0;
  for (int i = 0; i < 15; ++i) {
    first += losses[i];
    last += losses[losses.size() - 1 - i];
  }
  EXPECT_LT(last, first);
}

TEST(ConceptTrainerTest, CancelLeavesTheModelUnchanged) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel pristine, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(model.unet, {"attn2.to_k", "attn2.to_v"}));
  ConceptTrainingRequest request;
  request.adapter = {.config = Config(AdapterMethod::kCLora), .token = "<p>", .seed = 1};
  request.images = ConceptImages(0);
  request.training.steps = 50;
  std::atomic<bool> stop{false};
  EXPECT_THAT(TrainConcept(
                  model, state, request,
                  [&](const ConceptTrainingProgress& p) {
                    if (p.step == 2) stop = true;
                  },
                  &stop),
              StatusCodeIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(SameWeights(*model.unet, *pristine.unet));
  EXPECT_TRUE(SameWeights(*model.text_encoder, *pristine.text_encoder));
  for (const torch::Tensor& p : model.unet->parameters()) {
    EXPECT_TRUE(p.requires_grad());  // unfrozen again
  }
  // A new adapter can attach: nothing was left behind.
  EXPECT_TRUE(ConceptAdapter::Create(model, state, request.adapter).ok());
}

TEST(ConceptTrainerTest, RefusesBadRequestsNamingTheField) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(model.unet, {"attn2.to_k", "attn2.to_v"}));
  ConceptTrainingRequest request;
  request.adapter = {.config = Config(AdapterMethod::kLora), .token = "<p>", .seed = 1};
  EXPECT_THAT(TrainConcept(model, state, request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("images")));
  request.images = ConceptImages(0);
  request.training.steps = 0;
  EXPECT_THAT(TrainConcept(model, state, request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("steps")));
  request.training.steps = 1;
  request.captions = {"a face", "a face", "a face"};
  EXPECT_THAT(TrainConcept(model, state, request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("captions")));
}

}  // namespace
}  // namespace stamina::core

namespace stamina::core {
namespace {

TEST(ConceptTrainerTest, EarlyStoppingEndsAtACheckWhereTheOwnLossStalled) {
  auto train = [](const ConceptTrainingOptions& training) {
    return TrainFresh([&](ConceptTrainingRequest& request) { request.training = training; });
  };
  ConceptTrainingOptions options;
  options.steps = 20;
  options.batch_size = 2;
  options.early_stop_every = 5;
  options.early_stop_min_gain = 1.0;  // no check can gain 100%: every check after the first stalls
  options.early_stop_min_steps = 10;
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptTrainingResult stopped, train(options));
  EXPECT_EQ(stopped.steps, 10);
  EXPECT_EQ(stopped.artifact.metadata.at("steps"), "10");
  ASSERT_EQ(stopped.check_losses.size(), 3u);  // before steps 0, 5 and 10
  for (double loss : stopped.check_losses) EXPECT_GT(loss, 0);

  // The checks draw from their own generator: the 10 steps are those of a
  // plain 10-step training.
  ConceptTrainingOptions plain = options;
  plain.steps = 10;
  plain.early_stop_every = 0;
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptTrainingResult ten, train(plain));
  EXPECT_EQ(ten.steps, 10);
  EXPECT_TRUE(ten.check_losses.empty());
  for (const auto& [layer, factors] : ten.artifact.layers) {
    EXPECT_TRUE(torch::equal(factors.lora_B, stopped.artifact.layers.at(layer).lora_B)) << layer;
  }
  EXPECT_TRUE(torch::equal(ten.artifact.token_row, stopped.artifact.token_row));
  EXPECT_EQ(ten.final_loss, stopped.final_loss);

  // Not before the minimum: the same stalls, but all 20 steps are taken.
  options.early_stop_min_steps = 100;
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptTrainingResult full, train(options));
  EXPECT_EQ(full.steps, 20);
  EXPECT_EQ(full.check_losses.size(), 4u);

  options.early_stop_draws = 0;
  EXPECT_THAT(train(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("early_stop_draws")));
}

TEST(ConceptTrainerTest, SparsityWarmupStartsWithoutThePressure) {
  auto first_regularization = [](double warmup) -> absl::StatusOr<double> {
    std::vector<double> regularization;
    STAMINA_RETURN_IF_ERROR(
        TrainFresh(
            [&](ConceptTrainingRequest& request) {
              request.adapter.config.sparsity_warmup = warmup;
              request.training.steps = 4;
              request.training.batch_size = 1;
            },
            [&](const ConceptTrainingProgress& p) { regularization.push_back(p.regularization); })
            .status());
    return regularization.front();
  };
  STAMINA_ASSERT_OK_AND_ASSIGN(const double constant, first_regularization(0));
  EXPECT_GT(constant, 1e-4);  // γ · mean σ(G/τ) with masks starting on
  STAMINA_ASSERT_OK_AND_ASSIGN(const double warming, first_regularization(0.5));
  EXPECT_EQ(warming, 0);
}

TEST(ConceptTrainerTest, RankPerLayerShapesTheFactorsAndFolds) {
  AdapterConfig config = Config(AdapterMethod::kStamina);
  config.target_ranks = {{"attn2.to_v", 5}};
  STAMINA_ASSERT_OK_AND_ASSIGN(Sequence run, Learn(config, 2, 3));
  for (const AdapterArtifact& artifact : run.artifacts) {
    ASSERT_FALSE(artifact.layers.empty());
    for (const auto& [layer, factors] : artifact.layers) {
      const int64_t want = absl::EndsWith(layer, "attn2.to_v") ? 5 : 2;
      EXPECT_EQ(factors.lora_A.size(0), want) << layer;
      EXPECT_EQ(factors.lora_B.size(1), want) << layer;
    }
    EXPECT_EQ(artifact.config.target_ranks, config.target_ranks);
  }
  // An artifact whose factors do not match its ranks is refused.
  AdapterArtifact wrong = run.artifacts.back();
  wrong.config.target_ranks.clear();
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState state,
                               ContinualState::Create(model.unet, config.targets));
  EXPECT_THAT(FoldAdapterArtifact(run.artifacts.front(), model, state), IsOk());
  EXPECT_THAT(FoldAdapterArtifact(wrong, model, state),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lora_A")));
}

// Issue 19: a step in micro-batches accumulates the gradients of the whole
// batch (what a GPU that ran out of memory falls back to), up to float
// rounding; the artifact says so only when micro-batches were used.
TEST(ConceptTrainerTest, MicroBatchesAccumulateTheWholeBatchsGradients) {
  auto train = [](int micro) {
    return TrainFresh([&](ConceptTrainingRequest& request) {
      request.training.steps = 3;
      request.training.batch_size = 4;
      request.training.micro_batch_size = micro;
    });
  };
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptTrainingResult whole, train(0));
  EXPECT_EQ(whole.micro_batch_size, 4);
  EXPECT_EQ(whole.artifact.metadata.count("micro_batch_size"), 0u);
  for (int micro : {1, 3}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(ConceptTrainingResult split, train(micro));
    EXPECT_EQ(split.micro_batch_size, micro);
    EXPECT_EQ(split.artifact.metadata.at("micro_batch_size"), std::to_string(micro));
    EXPECT_NEAR(split.final_loss, whole.final_loss, 1e-5 * whole.final_loss) << micro;
    for (const auto& [layer, factors] : whole.artifact.layers) {
      const LayerFactors& other = split.artifact.layers.at(layer);
      EXPECT_LT((factors.lora_B - other.lora_B).abs().max().item<float>(), 1e-5) << layer;
      EXPECT_LT((factors.mask_b - other.mask_b).abs().max().item<float>(), 1e-5) << layer;
    }
    EXPECT_TRUE(torch::allclose(split.artifact.token_row, whole.artifact.token_row, 1e-4, 1e-5));
  }
  EXPECT_THAT(train(-1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("micro_batch_size")));
}

}  // namespace
}  // namespace stamina::core
