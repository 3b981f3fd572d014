#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "ATen/CPUGeneratorImpl.h"
#include "common/testing/status_matchers.h"
#include "core/adapters/adapted_layers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/concept_adapter.h"
#include "core/adapters/context_preservation.h"
#include "core/adapters/low_rank_adapter.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::HasSubstr;

// One UNet + text-encoder pass on fixed inputs, with token `id` in the
// prompt.
torch::Tensor ModelOutput(DiffusionModel& model, int64_t id) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  const torch::Tensor latents = torch::randn({2, model.config.unet.in_channels, 8, 8});
  torch::Tensor ids = torch::zeros({2, 6}, torch::kLong);
  ids[0][1] = id;
  ids[1][2] = id;
  const torch::Tensor context = model.text_encoder->forward(ids);
  return model.unet->forward(latents, torch::tensor({10, 500}), context);
}

// Makes every B (and the mask MLP) non-zero, as after some training.
void Perturb(ConceptAdapter& adapter, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (torch::Tensor& p : adapter.LoraParameters()) p.add_(torch::randn_like(p) * 0.05);
  for (torch::Tensor& p : adapter.MaskParameters()) p.add_(torch::randn_like(p));
  for (torch::Tensor& p : adapter.TokenParameters()) p.add_(torch::randn_like(p) * 0.1);
}

std::map<std::string, torch::Tensor> Weights(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> weights;
  for (const auto& item : module.named_parameters()) {
    weights[item.key()] = item.value().detach().clone();
  }
  return weights;
}

// Token ids of `prompt` (max_length of them).
torch::Tensor PromptIds(DiffusionModel& model, const std::string& prompt) {
  std::vector<int32_t> ids = model.tokenizer->Encode(prompt).value();
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong)
      .unsqueeze(0);
}

// One UNet pass on fixed latents conditioned on `prompt`.
torch::Tensor PromptOutput(DiffusionModel& model, const std::string& prompt) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(8);
  const torch::Tensor latents = torch::randn({1, model.config.unet.in_channels, 8, 8});
  const torch::Tensor context = model.text_encoder->forward(PromptIds(model, prompt));
  return model.unet->forward(latents, torch::tensor({300}), context);
}

// Every method, with and without context preservation by projection.
class AdaptersTest
    : public ::testing::TestWithParam<std::tuple<AdapterMethod, ContextPreservation>> {
 protected:
  void SetUp() override {
    STAMINA_ASSERT_OK_AND_ASSIGN(model_, TinyModelForTest(3));
    STAMINA_ASSERT_OK_AND_ASSIGN(
        state_, ContinualState::Create(model_.unet, {"attn2.to_k", "attn2.to_v"}));
  }
  ConceptAdapterOptions Options(const std::string& token, uint64_t seed) {
    ConceptAdapterOptions options;
    options.config = DefaultAdapterConfig(std::get<0>(GetParam()));
    options.config.context = std::get<1>(GetParam());
    options.config.context_energy = 1.0;
    // 16 positions of a 32-wide encoder: room is left for the token.
    options.preserved_prompts = {"a face"};
    options.config.rank = 2;
    options.token = token;
    options.seed = seed;
    return options;
  }

  DiffusionModel model_;
  ContinualState state_;
};

TEST_P(AdaptersTest, FindsEveryCrossAttentionKeyAndValue) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<AdaptedLayer> layers,
      FindAdaptedLayers(model_.unet, {"attn2.to_k", "attn2.to_v"}));
  int cross_attentions = 0;
  for (const auto& item : model_.unet->named_modules()) {
    if (item.key().size() > 6 && item.key().substr(item.key().size() - 6) == ".attn2") {
      ++cross_attentions;
    }
  }
  ASSERT_GT(cross_attentions, 0);
  EXPECT_EQ(layers.size(), 2u * cross_attentions);
  EXPECT_THAT(layers[0].name, HasSubstr("attn2.to_k"));
  EXPECT_THAT(FindAdaptedLayers(model_.unet, {"attn3.to_k"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attn3")));
}

TEST_P(AdaptersTest, FreshAdapterChangesNothingButTheToken) {
  const torch::Tensor before = ModelOutput(model_, 5);
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, Options("<anna>", 1)));
  // B = 0: the projections are unchanged; a prompt without the token too.
  EXPECT_TRUE(torch::equal(ModelOutput(model_, 5), before));
  adapter->Detach();
  EXPECT_TRUE(torch::equal(ModelOutput(model_, 5), before));
}

TEST_P(AdaptersTest, FoldedModelMatchesAttachedAdapter) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, Options("<anna>", 1)));
  Perturb(*adapter, 11);
  const int64_t id = adapter->token_id();
  const torch::Tensor attached = ModelOutput(model_, id);
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact, adapter->Export({}));
  adapter->Detach();
  EXPECT_FALSE(torch::allclose(ModelOutput(model_, id), attached));
  STAMINA_ASSERT_OK(FoldAdapterArtifact(artifact, model_, state_));
  const torch::Tensor folded = ModelOutput(model_, id);
  EXPECT_LT((folded - attached).abs().max().item<float>(), 1e-4);
  // The folded token row is exactly the token's row (MLP(z) for STAMINA).
  EXPECT_TRUE(torch::equal(
      model_.text_encoder->text_model->embeddings->token_embedding->weight[id],
      artifact.token_row));
}

TEST_P(AdaptersTest, FoldTouchesOnlyAdaptedLayersAndTheTokenRow) {
  const auto before = Weights(*model_.unet);
  const torch::Tensor table_before =
      model_.text_encoder->text_model->embeddings->token_embedding->weight.clone();
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, Options("<anna>", 1)));
  Perturb(*adapter, 12);
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact, adapter->Export({}));
  adapter.reset();
  STAMINA_ASSERT_OK(FoldAdapterArtifact(artifact, model_, state_));
  for (const auto& [name, weight] : Weights(*model_.unet)) {
    const bool adapted = name.find("attn2.to_k.weight") != std::string::npos ||
                         name.find("attn2.to_v.weight") != std::string::npos;
    EXPECT_EQ(torch::equal(weight, before.at(name)), !adapted) << name;
  }
  const torch::Tensor table =
      model_.text_encoder->text_model->embeddings->token_embedding->weight;
  const int64_t id = artifact.token_id;
  EXPECT_TRUE(torch::equal(table.slice(0, 0, id), table_before.slice(0, 0, id)));
  EXPECT_TRUE(torch::equal(table.slice(0, id + 1), table_before.slice(0, id + 1)));
}

TEST_P(AdaptersTest, ArtifactRoundTripAndReplayIsBitIdentical) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel replayed, TinyModelForTest(3));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ContinualState replay_state,
      ContinualState::Create(replayed.unet, {"attn2.to_k", "attn2.to_v"}));
  for (int concept = 0; concept < 3; ++concept) {
    const std::string token = "<c" + std::to_string(concept) + ">";
    STAMINA_ASSERT_OK_AND_ASSIGN(
        auto adapter, ConceptAdapter::Create(model_, state_, Options(token, 20 + concept)));
    Perturb(*adapter, 30 + concept);
    STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact,
                                 adapter->Export({{"base", "tiny"}}));
    adapter.reset();
    STAMINA_ASSERT_OK(FoldAdapterArtifact(artifact, model_, state_));
    STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeAdapterArtifact(artifact));
    STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact parsed, ParseAdapterArtifact(bytes));
    EXPECT_EQ(parsed.token, token);
    EXPECT_EQ(parsed.metadata.at("base"), "tiny");
    EXPECT_EQ(parsed.metadata.at("seed"), std::to_string(20 + concept));
    STAMINA_ASSERT_OK(FoldAdapterArtifact(parsed, replayed, replay_state));
  }
  const auto want = Weights(*model_.unet);
  for (const auto& [name, weight] : Weights(*replayed.unet)) {
    EXPECT_TRUE(torch::equal(weight, want.at(name))) << name;
  }
  EXPECT_TRUE(torch::equal(Weights(*replayed.text_encoder).begin()->second,
                           Weights(*model_.text_encoder).begin()->second));
  EXPECT_TRUE(torch::equal(
      replayed.text_encoder->text_model->embeddings->token_embedding->weight,
      model_.text_encoder->text_model->embeddings->token_embedding->weight));
}

TEST_P(AdaptersTest, ReplayOutOfOrderAndCorruptArtifactsAreRefused) {
  std::vector<AdapterArtifact> artifacts;
  for (const char* token : {"<a>", "<b>"}) {
    STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                                 ConceptAdapter::Create(model_, state_, Options(token, 1)));
    STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact, adapter->Export({}));
    adapter.reset();
    STAMINA_ASSERT_OK(FoldAdapterArtifact(artifact, model_, state_));
    artifacts.push_back(artifact);
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel fresh, TinyModelForTest(3));
  STAMINA_ASSERT_OK_AND_ASSIGN(ContinualState fresh_state,
                               ContinualState::Create(fresh.unet, {"attn2.to_k"}));
  EXPECT_THAT(FoldAdapterArtifact(artifacts[1], fresh, fresh_state),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("order")));

  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeAdapterArtifact(artifacts[0]));
  EXPECT_THAT(ParseAdapterArtifact(bytes.substr(0, bytes.size() / 2)),
              StatusCodeIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ParseAdapterArtifact("not an artifact"),
              StatusCodeIs(absl::StatusCode::kDataLoss));
  AdapterArtifact truncated = artifacts[0];
  truncated.layers.erase(truncated.layers.begin());
  EXPECT_THAT(FoldAdapterArtifact(truncated, fresh, fresh_state),
              StatusCodeIs(absl::StatusCode::kDataLoss));
}

TEST_P(AdaptersTest, AttachingTwiceIsRefused) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, Options("<a>", 1)));
  EXPECT_THAT(ConceptAdapter::Create(model_, state_, Options("<b>", 1)),
              StatusCodeIs(absl::StatusCode::kFailedPrecondition));
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact, adapter->Export({}));
  EXPECT_THAT(FoldAdapterArtifact(artifact, model_, state_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("attached")));
  EXPECT_THAT(ConceptAdapter::Create(model_, state_, Options("anna", 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
}

// With context = project (energy 1), the preserved prompts condition the
// UNet exactly as before, attached and folded, while the token's prompt
// changes.
TEST_P(AdaptersTest, PreservedPromptsKeepTheirOutputs) {
  if (std::get<1>(GetParam()) != ContextPreservation::kProject) GTEST_SKIP();
  const torch::Tensor face = PromptOutput(model_, "a face");
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, Options("<anna>", 1)));
  EXPECT_GT(adapter->context_rank(), 0);
  EXPECT_LT(adapter->context_rank(), model_.config.text_encoder.hidden_size);
  const torch::Tensor token_before = PromptOutput(model_, "a face <anna>");
  Perturb(*adapter, 13);
  EXPECT_LT((PromptOutput(model_, "a face") - face).abs().max().item<float>(), 1e-4);
  EXPECT_GT((PromptOutput(model_, "a face <anna>") - token_before).abs().max().item<float>(),
            1e-3);
  STAMINA_ASSERT_OK_AND_ASSIGN(AdapterArtifact artifact, adapter->Export({}));
  adapter.reset();
  STAMINA_ASSERT_OK(FoldAdapterArtifact(artifact, model_, state_));
  EXPECT_LT((PromptOutput(model_, "a face") - face).abs().max().item<float>(), 1e-4);

  // A second concept also keeps the first concept's prompt.
  const torch::Tensor anna = PromptOutput(model_, "a face <anna>");
  EXPECT_THAT(PreservedPrompts(*model_.tokenizer, "<bob>", {"a face <bob>"}),
              ::testing::ElementsAre("", "a", "a face", "a face <anna>"));
  ConceptAdapterOptions second = Options("<bob>", 2);
  second.preserved_prompts = {"a face <anna>"};
  STAMINA_ASSERT_OK_AND_ASSIGN(adapter, ConceptAdapter::Create(model_, state_, second));
  Perturb(*adapter, 14);
  EXPECT_LT((PromptOutput(model_, "a face <anna>") - anna).abs().max().item<float>(), 1e-4);
}

// context = penalize: the penalty is zero while B = 0, positive and
// differentiable once the factors move.
TEST_P(AdaptersTest, ContextPenaltyGrowsWithTheChange) {
  if (std::get<1>(GetParam()) != ContextPreservation::kProject) GTEST_SKIP();
  ConceptAdapterOptions options = Options("<anna>", 1);
  options.config.context = ContextPreservation::kPenalize;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter,
                               ConceptAdapter::Create(model_, state_, options));
  RegularizationTerms terms;
  STAMINA_ASSERT_OK(adapter->Regularization(&terms).status());
  EXPECT_EQ(terms.context, 0.0);
  Perturb(*adapter, 15);
  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor penalty, adapter->Regularization(&terms));
  EXPECT_GT(terms.context, 0.0);
  penalty.backward();
  EXPECT_GT(adapter->LoraParameters()[1].grad().abs().sum().item<float>(), 0.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Methods, AdaptersTest,
    ::testing::Combine(::testing::Values(AdapterMethod::kLora, AdapterMethod::kCLora,
                                         AdapterMethod::kStamina),
                       ::testing::Values(ContextPreservation::kNone,
                                         ContextPreservation::kProject)),
    [](const auto& info) {
      return std::string(Name(std::get<0>(info.param))) +
             (std::get<1>(info.param) == ContextPreservation::kProject ? "_project" : "");
    });

TEST(ContextBasisTest, SpansTheRequestedEnergyWithOrthonormalColumns) {
  torch::manual_seed(3);
  // Energy along 3 directions: 100, 10, 1 (and nothing else).
  const torch::Tensor directions = std::get<0>(torch::linalg_qr(torch::randn({8, 3})));  // [8, 3]
  const torch::Tensor outputs =
      torch::cat({directions.t()[0].unsqueeze(0) * 10, directions.t()[1].unsqueeze(0) * 3.1623,
                  directions.t()[2].unsqueeze(0)});
  EXPECT_EQ(ContextBasis(outputs, 0.5).size(1), 1);
  EXPECT_EQ(ContextBasis(outputs, 0.95).size(1), 2);
  const torch::Tensor all = ContextBasis(outputs, 1.0);
  ASSERT_GE(all.size(1), 3);
  const torch::Tensor q = ContextBasis(outputs, 0.999);
  EXPECT_EQ(q.size(1), 3);
  EXPECT_TRUE(torch::allclose(torch::matmul(q.t(), q), torch::eye(3), 1e-5, 1e-5));
  // Every output lies in span(Q).
  const torch::Tensor residual = outputs - torch::matmul(torch::matmul(outputs, q), q.t());
  EXPECT_LT(residual.abs().max().item<float>(), 1e-4);
  EXPECT_EQ(ContextBasis(torch::zeros({4, 8}), 0.9).size(1), 0);
}

TEST(ConceptTokenTest, MaxRmsKeepsTheRowInTheTablesUnits) {
  torch::manual_seed(4);
  const torch::Tensor table = torch::randn({20, 16});
  at::Generator generator = at::detail::createCPUGenerator(9);
  ConceptToken token(TokenKind::kMlp, 0, 2.0, table, 20, -1, generator);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : token->parameters()) p.mul_(100);
  }
  const torch::Tensor mean = table.mean(0), std = table.std(0);
  const torch::Tensor offset = (token->Row() - mean) / std;
  EXPECT_LE(offset.pow(2).mean().sqrt().item<float>(), 2.0f + 1e-4f);
  at::Generator unbounded_generator = at::detail::createCPUGenerator(9);
  ConceptToken unbounded(TokenKind::kMlp, 0, 0.0, table, 20, -1, unbounded_generator);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : unbounded->parameters()) p.mul_(100);
  }
  EXPECT_GT(((unbounded->Row() - mean) / std).pow(2).mean().sqrt().item<float>(), 10.0f);
}

TEST(ConceptTokenTest, InitializerWordIsTheStartOrTheAnchor) {
  torch::manual_seed(4);
  const torch::Tensor table = torch::randn({20, 16});
  at::Generator generator = at::detail::createCPUGenerator(9);
  ConceptToken direct(TokenKind::kDirect, 0, 0.0, table, 20, 7, generator);
  EXPECT_TRUE(torch::equal(direct->Row(), table[7]));
  // The MLP's offset is the same for either anchor; only the anchor moves.
  at::Generator anchored_generator = at::detail::createCPUGenerator(9);
  ConceptToken anchored(TokenKind::kMlp, 0, 2.0, table, 20, 7, anchored_generator);
  at::Generator mean_generator = at::detail::createCPUGenerator(9);
  ConceptToken at_mean(TokenKind::kMlp, 0, 2.0, table, 20, -1, mean_generator);
  EXPECT_TRUE(torch::allclose(anchored->Row() - table[7], at_mean->Row() - table.mean(0),
                              1e-5, 1e-5));
}

TEST_P(AdaptersTest, TokenInitializerMustBeOneWordOfTheBaseVocabulary) {
  ConceptAdapterOptions options = Options("<anna>", 1);
  options.config.token_initializer = "face";
  {
    STAMINA_ASSERT_OK_AND_ASSIGN(auto adapter, ConceptAdapter::Create(model_, state_, options));
    adapter->Detach();
  }
  for (const char* bad : {"zzyzx", "<anna>", "a face"}) {
    options.config.token_initializer = bad;
    EXPECT_THAT(ConceptAdapter::Create(model_, state_, options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token_initializer")))
        << bad;
  }
}

TEST(LowRankAdapterTest, StraightThroughGivesMaskGradientOnceBMoves) {
  AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  at::Generator generator = at::detail::createCPUGenerator(5);
  LowRankAdapter adapter(6, 4, config, torch::Tensor(), LayerContext(), generator, generator);
  const torch::Tensor x = torch::randn({3, 6});
  adapter->Delta(x).pow(2).sum().backward();
  // B = 0: dL/dM = dL/dΔW ⊙ BA = 0 (expected, method.md §4.2).
  EXPECT_EQ(adapter->mask_b.grad().abs().sum().item<float>(), 0.0f);
  adapter->zero_grad();
  {
    torch::NoGradGuard no_grad;
    adapter->lora_B.copy_(torch::randn({4, config.rank}, generator));
  }
  (adapter->Delta(x) * torch::randn({3, 4}, generator)).sum().backward();
  EXPECT_GT(adapter->mask_b.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GT(adapter->mask_U.grad().abs().sum().item<float>(), 0.0f);
  // The forward pass used the hard mask: masked entries contribute nothing.
  const LayerFactors factors = adapter->Factors();
  const torch::Tensor mask = FoldMask(config, factors, {});
  EXPECT_TRUE(torch::equal(mask, mask.round()));  // binary
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor want =
        torch::nn::functional::linear(x, FoldedDelta(config, factors, {}));
    EXPECT_LT((adapter->Delta(x) - want).abs().max().item<float>(), 1e-5);
  }
}

TEST(LowRankAdapterTest, ExclusiveOverlapNeverTouchesEarlierEntries) {
  AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  config.overlap = MaskOverlap::kExclusive;
  at::Generator generator = at::detail::createCPUGenerator(6);
  const torch::Tensor earlier = torch::rand({4, 6}, generator) < 0.5;
  LowRankAdapter adapter(6, 4, config, earlier, LayerContext(), generator, generator);
  {
    torch::NoGradGuard no_grad;
    adapter->lora_B.copy_(torch::randn({4, config.rank}, generator));
  }
  const torch::Tensor delta = FoldedDelta(config, adapter->Factors(), earlier);
  EXPECT_EQ(delta.masked_select(earlier).abs().sum().item<float>(), 0.0f);
  EXPECT_GT(delta.abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace stamina::core
