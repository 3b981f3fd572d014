#include "core/pipelines/diffusers_loader.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/testing/status_matchers.h"
#include "core/io/file_bytes.h"
#include "core/io/safetensors.h"
#include "core/io/state_dict.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/diffusers_export.h"
#include "core/tokenizers/clip_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

namespace fs = std::filesystem;
using ::stamina::IsOk;
using ::stamina::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kFixture[] = "testdata/diffusers-tiny-sd";
constexpr char kUNetFile[] = "unet/diffusion_pytorch_model.safetensors";
constexpr char kVaeFile[] = "vae/diffusion_pytorch_model.safetensors";
constexpr char kTextFile[] = "text_encoder/model.safetensors";

// A writable copy of the fixture's checkpoint, one per test.
class DiffusersLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(std::getenv("TEST_TMPDIR")) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::copy(fs::path(kFixture) / "checkpoint", dir_, fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
  }

  std::string Path(const std::string& relative) const { return (dir_ / relative).string(); }

  std::map<std::string, torch::Tensor> Tensors(const std::string& file) {
    auto read = ReadSafetensors(Path(file));
    EXPECT_THAT(read.status(), IsOk());
    return read.ok() ? read->tensors : std::map<std::string, torch::Tensor>{};
  }
  void Write(const std::string& file, const std::map<std::string, torch::Tensor>& tensors) {
    fs::remove(Path(file));
    ASSERT_THAT(WriteSafetensors(Path(file), tensors, {}), IsOk());
  }
  void EditJson(const std::string& file, const std::function<void(nlohmann::json&)>& edit) {
    auto text = ReadFileBytes(Path(file));
    ASSERT_THAT(text.status(), IsOk());
    nlohmann::json json = nlohmann::json::parse(*text);
    edit(json);
    std::ofstream(Path(file)) << json.dump(2);
  }

  fs::path dir_;
};

TEST_F(DiffusersLoaderTest, LoadsTheFixtureWithRoomForConceptTokens) {
  DiffusersLoadReport report;
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model,
                               LoadDiffusersModel(dir_.string(), {}, &report));
  EXPECT_EQ(report.scheduler_class, "PNDMScheduler");
  EXPECT_EQ(report.files, (std::vector<std::string>{kTextFile, kUNetFile, kVaeFile}));
  EXPECT_TRUE(report.unet.missing.empty());
  EXPECT_EQ(model.tokenizer->vocab_size(), 618);
  EXPECT_EQ(model.config.text_encoder.vocab_size, 618 + 256);
  const torch::Tensor rows =
      model.text_encoder->text_model->embeddings->token_embedding->weight;
  EXPECT_EQ(rows.size(0), 618 + 256);
  EXPECT_EQ(rows.slice(0, 618).abs().max().item<float>(), 0.0f);
  EXPECT_GT(rows.slice(0, 0, 618).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(model.config.vae.scaling_factor, 0.18215);
  EXPECT_EQ(model.vae_scale_factor(), 4);
  // A concept token takes the first added row.
  STAMINA_ASSERT_OK_AND_ASSIGN(int32_t id, model.tokenizer->AddToken("<sks>"));
  EXPECT_EQ(id, 618);
  // The project's generic entry points see the layout too.
  EXPECT_TRUE(IsDiffusersLayout(dir_.string()));
  EXPECT_THAT(LoadDiffusionModel(dir_.string()).status(), IsOk());
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModelConfig config,
                               ReadDiffusionModelConfig(dir_.string()));
  EXPECT_EQ(config.unet.block_out_channels, (std::vector<int64_t>{32, 32, 64, 64}));
}

TEST_F(DiffusersLoaderTest, MissingExtraAndMisShapedTensorsAreNamed) {
  auto unet = Tensors(kUNetFile);
  const torch::Tensor conv_out = unet["conv_out.weight"];
  unet["conv_out.weight"] = torch::zeros({4, 32, 1, 1});
  Write(kUNetFile, unet);
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(kUNetFile), HasSubstr("conv_out.weight"))));
  unet["conv_out.weight"] = conv_out;
  unet.erase("conv_in.bias");
  unet["conv_in.extra"] = torch::zeros({2});
  Write(kUNetFile, unet);
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("conv_in.bias"), HasSubstr("conv_in.extra"))));
}

TEST_F(DiffusersLoaderTest, TruncatedWeightsAreDataLoss) {
  const std::string path = Path(kVaeFile);
  fs::resize_file(path, fs::file_size(path) / 2);
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vae/")));
}

TEST_F(DiffusersLoaderTest, UnimplementedConfigAndUnknownSchedulerAreRefused) {
  EditJson("unet/config.json", [](nlohmann::json& j) { j["upcast_attention"] = "yes"; });
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unet/config.json: upcast_attention")));
  EditJson("unet/config.json", [](nlohmann::json& j) {
    j["upcast_attention"] = false;
    j["addition_embed_type"] = "text_time";
  });
  EXPECT_THAT(ReadDiffusersConfig(dir_.string()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unet/config.json: addition_embed_type")));
  EditJson("unet/config.json", [](nlohmann::json& j) { j["addition_embed_type"] = nullptr; });
  EXPECT_THAT(ReadDiffusersConfig(dir_.string()).status(), IsOk());
  EditJson("scheduler/scheduler_config.json",
           [](nlohmann::json& j) { j["_class_name"] = "FancyScheduler"; });
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("FancyScheduler")));
}

TEST_F(DiffusersLoaderTest, SingleFilePickleAndShardedCheckpointsAreUnimplemented) {
  EXPECT_THAT(LoadDiffusersModel(Path(kUNetFile)).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("single-file")));
  fs::rename(Path(kUNetFile), Path("unet/diffusion_pytorch_model.bin"));
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("pickle")));
  std::ofstream(Path("unet/diffusion_pytorch_model.safetensors.index.json")) << "{}";
  EXPECT_THAT(LoadDiffusersModel(dir_.string()).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("sharded")));
  EXPECT_THAT(LoadDiffusersModel(Path("nowhere")).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nowhere")));
}

TEST_F(DiffusersLoaderTest, Fp16VariantLoadsAsFloat32) {
  auto unet = Tensors(kUNetFile);
  for (auto& [key, tensor] : unet) tensor = tensor.to(torch::kFloat16);
  fs::remove(Path(kUNetFile));
  Write("unet/diffusion_pytorch_model.fp16.safetensors", unet);
  DiffusersLoadReport report;
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model,
                               LoadDiffusersModel(dir_.string(), {}, &report));
  EXPECT_EQ(report.files[1], "unet/diffusion_pytorch_model.fp16.safetensors");
  const torch::Tensor weight = model.unet->conv_in->weight;
  EXPECT_EQ(weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(weight, unet["conv_in.weight"].to(torch::kFloat32)));
}

TEST_F(DiffusersLoaderTest, OlderKeySpellingsLoadTheSameWeights) {
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel reference, LoadDiffusersModel(dir_.string()));
  // Text encoder keys in the other spelling ("text_model." prefixed or not:
  // transformers 5 writes them without, older versions with), with the
  // position_ids buffer of transformers < 4.31.
  const std::string prefix = "text_model.";
  std::map<std::string, torch::Tensor> text;
  for (auto& [key, tensor] : Tensors(kTextFile)) {
    text[key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : prefix + key] = tensor;
  }
  text[prefix + "embeddings.position_ids"] = torch::arange(77, torch::kInt64).unsqueeze(0);
  Write(kTextFile, text);
  // The VAE mid-block attention as diffusers < 0.15 named it, as 1x1 convs.
  std::map<std::string, torch::Tensor> vae;
  for (auto& [key, tensor] : Tensors(kVaeFile)) {
    std::string name = key;
    for (auto [now, old] : {std::pair{".to_q.", ".query."}, {".to_k.", ".key."},
                            {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}}) {
      const size_t at = name.find(now);
      if (at != std::string::npos) name.replace(at, std::string(now).size(), old);
    }
    const bool conv = name != key && tensor.dim() == 2;
    vae[name] = conv ? tensor.unsqueeze(-1).unsqueeze(-1) : tensor;
  }
  Write(kVaeFile, vae);
  STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model, LoadDiffusersModel(dir_.string()));
  for (auto [ours, theirs] : {std::pair{StateDict(*model.text_encoder),
                                        StateDict(*reference.text_encoder)},
                              std::pair{StateDict(*model.vae), StateDict(*reference.vae)}}) {
    ASSERT_EQ(ours.size(), theirs.size());
    for (const auto& [key, tensor] : ours) {
      EXPECT_TRUE(torch::equal(tensor, theirs.at(key))) << key;
    }
  }
}

// Not only the fixture's shape: other widths, depths, head counts, group
// counts, 2 to 4 VAE levels and linear projections round-trip through the
// diffusers files (SaveDiffusersModel, then this loader) with equal outputs.
TEST(DiffusersLoaderShapesTest, OtherArchitecturesOfTheFamilyRoundTrip) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<CLIPTokenizer> clip,
      CLIPTokenizer::Load(std::string(kFixture) + "/checkpoint/tokenizer/vocab.json",
                          std::string(kFixture) + "/checkpoint/tokenizer/merges.txt"));
  const std::shared_ptr<Tokenizer> tokenizer(std::move(clip));
  struct Variant {
    std::vector<int64_t> unet_channels;
    std::vector<std::string> down, up;
    std::vector<int64_t> heads;
    int64_t groups;
    bool linear;
    std::vector<int64_t> vae_channels;
    int64_t text_layers;
  };
  const std::vector<Variant> variants = {
      {{16, 32}, {"CrossAttnDownBlock2D", "DownBlock2D"}, {"UpBlock2D", "CrossAttnUpBlock2D"},
       {2}, 8, false, {16, 32}, 1},
      {{16, 32, 48}, {"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"},
       {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"}, {2, 4, 4}, 8, true,
       {16, 16, 32, 32}, 3},
  };
  int index = 0;
  for (const Variant& v : variants) {
    SCOPED_TRACE(index);
    DiffusionModelConfig config;
    config.text_encoder = CLIPTextConfig::Tiny();
    config.text_encoder.vocab_size = 618;
    config.text_encoder.num_hidden_layers = v.text_layers;
    config.text_encoder.max_position_embeddings = 77;
    config.unet = UNet2DConditionModelConfig::Tiny();
    config.unet.block_out_channels = v.unet_channels;
    config.unet.down_block_types = v.down;
    config.unet.up_block_types = v.up;
    config.unet.attention_head_dim = v.heads;
    config.unet.norm_num_groups = v.groups;
    config.unet.use_linear_projection = v.linear;
    config.unet.cross_attention_dim = config.text_encoder.hidden_size;
    config.unet.sample_size = 8;
    config.vae = AutoencoderKLConfig::Tiny();
    config.vae.block_out_channels = v.vae_channels;
    config.vae.down_block_types.assign(v.vae_channels.size(), "DownEncoderBlock2D");
    config.vae.up_block_types.assign(v.vae_channels.size(), "UpDecoderBlock2D");
    config.vae.norm_num_groups = v.groups;
    config.vae.sample_size = 8 << (v.vae_channels.size() - 1);
    STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel model,
                                 CreateDiffusionModel(config, tokenizer, 3 + index));
    const std::string dir = (fs::path(std::getenv("TEST_TMPDIR")) /
                             ("variant-" + std::to_string(index++))).string();
    STAMINA_ASSERT_OK(SaveDiffusersModel(model, dir));
    STAMINA_ASSERT_OK_AND_ASSIGN(DiffusionModel loaded, LoadDiffusersModel(dir));
    EXPECT_EQ(loaded.config.unet.attention_head_dim, v.heads);
    EXPECT_EQ(loaded.vae_scale_factor(), model.vae_scale_factor());
    torch::NoGradGuard no_grad;
    model.unet->eval();
    loaded.unet->eval();
    const torch::Tensor ids = torch::randint(0, 618, {2, config.text_encoder.max_position_embeddings});
    const torch::Tensor states = model.text_encoder->forward(ids);
    EXPECT_TRUE(torch::equal(states, loaded.text_encoder->forward(ids)));
    const torch::Tensor x = torch::randn({2, config.unet.in_channels, 8, 8});
    const torch::Tensor t = torch::tensor({10, 900});
    EXPECT_TRUE(torch::equal(model.unet->forward(x, t, states),
                             loaded.unet->forward(x, t, states)));
    const torch::Tensor z = torch::randn({1, config.vae.latent_channels, 4, 4});
    EXPECT_TRUE(torch::equal(model.vae->Decode(z), loaded.vae->Decode(z)));
  }
}

}  // namespace
}  // namespace stamina::core
