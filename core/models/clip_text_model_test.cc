#include "core/models/clip_text_model.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "core/testing/module_parameters.h"
#include "core/torch_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CLIPTextModelTest, StableDiffusion15MatchesTransformersLayout) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      CLIPTextModel clip,
      CreateCLIPTextModel(CLIPTextConfig::StableDiffusion15()));

  EXPECT_EQ(ParameterCount(*clip), 123060480);
  std::map<std::string, std::vector<int64_t>> shapes = ParameterShapes(*clip);
  EXPECT_EQ(shapes.size(), 196u);
  EXPECT_THAT(shapes["text_model.embeddings.token_embedding.weight"],
              ElementsAre(49408, 768));
  EXPECT_THAT(shapes["text_model.embeddings.position_embedding.weight"],
              ElementsAre(77, 768));
  EXPECT_THAT(shapes["text_model.encoder.layers.0.self_attn.q_proj.weight"],
              ElementsAre(768, 768));
  EXPECT_THAT(shapes["text_model.encoder.layers.0.self_attn.k_proj.bias"],
              ElementsAre(768));
  EXPECT_THAT(shapes["text_model.encoder.layers.5.self_attn.v_proj.weight"],
              ElementsAre(768, 768));
  EXPECT_THAT(shapes["text_model.encoder.layers.11.self_attn.out_proj.weight"],
              ElementsAre(768, 768));
  EXPECT_THAT(shapes["text_model.encoder.layers.11.layer_norm1.weight"],
              ElementsAre(768));
  EXPECT_THAT(shapes["text_model.encoder.layers.11.mlp.fc1.weight"],
              ElementsAre(3072, 768));
  EXPECT_THAT(shapes["text_model.encoder.layers.11.mlp.fc2.weight"],
              ElementsAre(768, 3072));
  EXPECT_THAT(shapes["text_model.encoder.layers.11.layer_norm2.bias"],
              ElementsAre(768));
  EXPECT_THAT(shapes["text_model.final_layer_norm.weight"], ElementsAre(768));
  EXPECT_EQ(shapes.count("text_model.encoder.layers.12.mlp.fc1.weight"), 0u);

  // position_ids is a buffer, as in transformers (see the header).
  std::vector<std::string> buffers;
  for (const auto& item : clip->named_buffers()) buffers.push_back(item.key());
  EXPECT_THAT(buffers, ElementsAre("text_model.embeddings.position_ids"));
  const torch::Tensor position_ids = clip->text_model->embeddings->position_ids;
  EXPECT_EQ(position_ids.scalar_type(), torch::kLong);
  EXPECT_TRUE(
      torch::equal(position_ids, torch::arange(77, torch::kLong).unsqueeze(0)));

  STAMINA_ASSERT_OK_AND_ASSIGN(
      torch::Tensor out, RunTorch([&] {
        return clip(torch::randint(0, 49408, {1, 8}, torch::kLong));
      }));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 8, 768}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(CLIPTextModelTest, TinyForwardShapesFiniteAndDeterministic) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  torch::manual_seed(3);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel again,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  const torch::Tensor ids = torch::randint(0, 1000, {2, 16}, torch::kLong);

  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor out,
                               RunTorch([&] { return clip(ids); }));

  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 16, 32}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_TRUE(torch::equal(out, again(ids)));
  // Shorter prompts are fine.
  EXPECT_EQ(clip(ids.slice(1, 0, 5)).sizes(), torch::IntArrayRef({2, 5, 32}));
}

TEST(CLIPTextModelTest, CausalMaskHidesLaterTokens) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  const torch::Tensor ids = torch::arange(10, 26, torch::kLong).unsqueeze(0);
  torch::Tensor changed = ids.clone();
  changed[0][9] = 500;

  const torch::Tensor out = clip(ids);
  const torch::Tensor out_changed = clip(changed);

  EXPECT_TRUE(torch::equal(out.slice(1, 0, 9), out_changed.slice(1, 0, 9)));
  for (int64_t i = 9; i < 16; ++i) {
    EXPECT_FALSE(torch::allclose(out[0][i], out_changed[0][i])) << i;
  }
}

// Module::to(dtype) also casts the int64 position_ids buffer in LibTorch.
TEST(CLIPTextModelTest, RunsAfterDtypeConversion) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  const torch::Tensor ids = torch::arange(3, 12, torch::kLong).unsqueeze(0);
  const torch::Tensor expected = clip(ids).to(torch::kDouble);

  clip->to(torch::kDouble);

  STAMINA_ASSERT_OK_AND_ASSIGN(torch::Tensor out,
                               RunTorch([&] { return clip(ids); }));
  EXPECT_EQ(out.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(out, expected, 1e-4, 1e-5));
}

TEST(CLIPTextModelTest, GeluVariantRuns) {
  torch::NoGradGuard no_grad;
  CLIPTextConfig config = CLIPTextConfig::Tiny();
  config.hidden_act = "gelu";
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip, CreateCLIPTextModel(config));
  EXPECT_EQ(clip(torch::zeros({1, 4}, torch::kLong)).sizes(),
            torch::IntArrayRef({1, 4, 32}));
}

TEST(CLIPTextModelTest, BadInputsAndConfigsBecomeStatus) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  EXPECT_THAT(RunTorch([&] {
                return clip(torch::zeros({1, 17}, torch::kLong));
              }),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("max_position_embeddings")));

  CLIPTextConfig config = CLIPTextConfig::Tiny();
  config.num_attention_heads = 5;
  EXPECT_THAT(CreateCLIPTextModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("num_attention_heads")));
  config = CLIPTextConfig::Tiny();
  config.hidden_act = "relu";
  EXPECT_THAT(CreateCLIPTextModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("relu")));
}

}  // namespace
}  // namespace stamina::core
