#include "core/io/state_dict.h"

#include <cstdlib>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "core/io/safetensors.h"
#include "core/models/autoencoder_kl.h"
#include "core/models/clip_text_model.h"
#include "core/models/unet_2d_condition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

// Saves `source` to a file, reads it back and loads it into `target`.
void SaveAndLoad(const torch::nn::Module& source, torch::nn::Module& target,
                 const std::string& name) {
  const std::string path = TempPath(name + ".safetensors");
  STAMINA_ASSERT_OK(
      WriteSafetensors(path, StateDict(source), {{"format", "pt"}}));
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors file, ReadSafetensors(path));
  STAMINA_ASSERT_OK_AND_ASSIGN(LoadReport report,
                               LoadStateDict(target, file.tensors));
  EXPECT_THAT(report.missing, IsEmpty());
  EXPECT_THAT(report.unexpected, IsEmpty());
  EXPECT_THAT(report.mismatched, IsEmpty());
  EXPECT_EQ(report.loaded.size(), file.tensors.size());
}

TEST(StateDictTest, UNetRoundTripGivesIdenticalOutputs) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel source,
      CreateUNet2DConditionModel(UNet2DConditionModelConfig::Tiny()));
  torch::manual_seed(2);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel target,
      CreateUNet2DConditionModel(UNet2DConditionModelConfig::Tiny()));
  const torch::Tensor sample = torch::randn({1, 4, 16, 16});
  const torch::Tensor t = torch::tensor({500}, torch::kLong);
  const torch::Tensor context = torch::randn({1, 5, 32});
  ASSERT_FALSE(
      torch::equal(source(sample, t, context), target(sample, t, context)));
  SaveAndLoad(*source, *target, "unet");
  EXPECT_TRUE(
      torch::equal(source(sample, t, context), target(sample, t, context)));
}

TEST(StateDictTest, CLIPRoundTripGivesIdenticalOutputs) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel source,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  torch::manual_seed(2);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel target,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  const torch::Tensor ids = torch::randint(0, 1000, {2, 8}, torch::kLong);
  ASSERT_FALSE(torch::equal(source(ids), target(ids)));
  SaveAndLoad(*source, *target, "clip");
  EXPECT_TRUE(torch::equal(source(ids), target(ids)));
}

TEST(StateDictTest, AutoencoderKLRoundTripGivesIdenticalOutputs) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL source, CreateAutoencoderKL(AutoencoderKLConfig::Tiny()));
  torch::manual_seed(2);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL target, CreateAutoencoderKL(AutoencoderKLConfig::Tiny()));
  const torch::Tensor image = torch::rand({1, 3, 16, 16}) * 2 - 1;
  ASSERT_FALSE(torch::equal(source(image), target(image)));
  SaveAndLoad(*source, *target, "vae");
  EXPECT_TRUE(torch::equal(source(image), target(image)));
}

TEST(StateDictTest, StateDictHoldsParametersAndBuffers) {
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  std::map<std::string, torch::Tensor> state = StateDict(*clip);
  EXPECT_EQ(state.size(), clip->named_parameters().size() + 1);
  EXPECT_EQ(state.count("text_model.embeddings.position_ids"), 1u);
  EXPECT_FALSE(state.at("text_model.final_layer_norm.weight").requires_grad());
}

TEST(StateDictTest, OptionalCLIPPositionIdsMayBeAbsentOrPresent) {
  torch::manual_seed(1);
  STAMINA_ASSERT_OK_AND_ASSIGN(CLIPTextModel clip,
                               CreateCLIPTextModel(CLIPTextConfig::Tiny()));
  std::map<std::string, torch::Tensor> state = StateDict(*clip);
  state.erase("text_model.embeddings.position_ids");
  EXPECT_THAT(LoadStateDict(*clip, state),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("1 missing keys "
                                 "(text_model.embeddings.position_ids)")));
  LoadOptions options;
  options.optional_keys = OptionalCLIPTextModelKeys();
  STAMINA_ASSERT_OK_AND_ASSIGN(LoadReport report,
                               LoadStateDict(*clip, state, options));
  EXPECT_THAT(report.missing,
              ElementsAre("text_model.embeddings.position_ids"));
}

class TwoLayers : public torch::nn::Module {
 public:
  TwoLayers() {
    register_module("a", a);
    register_module("b", b);
  }
  torch::nn::Linear a{torch::nn::LinearOptions(3, 4)};
  torch::nn::Linear b{torch::nn::LinearOptions(4, 2)};
};

TEST(StateDictTest, ReportsMissingUnexpectedAndMismatchedKeys) {
  TwoLayers module;
  const torch::Tensor before = module.a->weight.clone();
  std::map<std::string, torch::Tensor> tensors = {
      {"a.weight", torch::zeros({3, 4})},  // transposed: mismatch
      {"a.bias", torch::zeros({4})},      {"b.weight", torch::zeros({2, 4})},
      {"c.weight", torch::zeros({1})},  // unexpected
      {"d.weight", torch::zeros({1})},  // unexpected
  };                                    // b.bias missing
  EXPECT_THAT(
      LoadStateDict(module, tensors),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("1 shape mismatches (a.weight: expected [4, 3], "
                               "got [3, 4])"),
                     HasSubstr("1 missing keys (b.bias)"),
                     HasSubstr("2 unexpected keys (c.weight, d.weight)"),
                     HasSubstr("2 of 4 keys matched"))));
  // All-or-nothing: the valid a.bias was not copied either.
  EXPECT_TRUE(torch::equal(module.a->weight, before));
  EXPECT_FALSE(torch::equal(module.a->bias, torch::zeros({4})));

  // Missing and unexpected allowed; the mismatch still fails.
  LoadOptions lenient;
  lenient.allow_missing = true;
  lenient.allow_unexpected = true;
  EXPECT_THAT(LoadStateDict(module, tensors, lenient),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("shape mismatches"),
                             testing::Not(HasSubstr("missing keys")))));
  tensors["a.weight"] = torch::ones({4, 3});
  STAMINA_ASSERT_OK_AND_ASSIGN(LoadReport report,
                               LoadStateDict(module, tensors, lenient));
  EXPECT_THAT(report.loaded, ElementsAre("a.bias", "a.weight", "b.weight"));
  EXPECT_THAT(report.missing, ElementsAre("b.bias"));
  EXPECT_THAT(report.unexpected, ElementsAre("c.weight", "d.weight"));
  EXPECT_TRUE(torch::equal(module.a->weight, torch::ones({4, 3})));
  EXPECT_TRUE(module.a->weight.requires_grad());
}

TEST(StateDictTest, ConvertsDtypeToTheModules) {
  TwoLayers source;
  TwoLayers target;
  std::map<std::string, torch::Tensor> half;
  for (const auto& [key, tensor] : StateDict(source)) {
    half[key] = tensor.to(torch::kHalf);
  }
  STAMINA_ASSERT_OK(LoadStateDict(target, half));
  EXPECT_EQ(target.a->weight.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(
      target.a->weight, source.a->weight.to(torch::kHalf).to(torch::kFloat)));
}

TEST(StateDictTest, ManyMissingKeysAreElided) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      UNet2DConditionModel unet,
      CreateUNet2DConditionModel(UNet2DConditionModelConfig::Tiny()));
  const size_t n = StateDict(*unet).size();
  EXPECT_THAT(LoadStateDict(*unet, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(absl::StrCat(n, " missing keys (")),
                             HasSubstr(", ...)"),
                             HasSubstr(absl::StrCat("0 of ", n)))));
}

}  // namespace
}  // namespace stamina::core
