#include "core/world/oracle.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/io/safetensors.h"
#include "core/io/state_dict.h"
#include "core/pipelines/image_tensor.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

namespace nn = torch::nn;

constexpr absl::string_view kFormat = "stamina.attribute_oracle.v1";

struct HeadInfo {
  absl::string_view name;
  int size;
  int family;  // SceneKind as int, or -1 for every family
};

constexpr int kShape = static_cast<int>(SceneKind::kShape);
constexpr int kFace = static_cast<int>(SceneKind::kFace);
constexpr int kLandmark = static_cast<int>(SceneKind::kLandmark);

constexpr std::array<HeadInfo, kNumOracleHeads> kHeads = {{
    {"family", 3, -1},
    {"background", kNumColors, -1},
    {"shape_kind", kNumShapeKinds, kShape},
    {"shape_color", kNumColors, kShape},
    {"shape_size", kNumShapeSizes, kShape},
    {"eye_shape", kNumEyeShapes, kFace},
    {"eye_color", kNumEyeColors, kFace},
    {"mouth", kNumMouths, kFace},
    {"hair_color", kNumHairColors, kFace},
    {"hair_style", kNumHairStyles, kFace},
    {"skin", kNumSkinTones, kFace},
    {"accessory", kNumAccessories, kFace},
    {"landmark_type", kNumLandmarkTypes, kLandmark},
    {"material", kNumMaterials, kLandmark},
    {"accent", kNumAccents, kLandmark},
    {"landmark_count", kMaxLandmarkCount, kLandmark},
}};

const HeadInfo& Info(OracleHead head) {
  return kHeads[static_cast<int>(head)];
}

// Appends conv 3x3 → GroupNorm → ReLU to `seq`.
void AddConvBlock(nn::Sequential& seq, int in, int out, int stride) {
  seq->push_back(
      nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1)));
  seq->push_back(nn::GroupNorm(nn::GroupNormOptions(out >= 8 ? 8 : 1, out)));
  seq->push_back(nn::ReLU());
}

// PyTorch's default Conv/Linear init (kaiming_uniform with a = sqrt(5), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), drawn from an
// explicit generator so that creating an oracle does not touch, or depend
// on, LibTorch's global generator.
void InitWeights(nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& child : module.modules(/*include_self=*/true)) {
    torch::Tensor weight;
    torch::Tensor bias;
    if (auto* conv = child->as<nn::Conv2d>()) {
      weight = conv->weight;
      bias = conv->bias;
    } else if (auto* linear = child->as<nn::Linear>()) {
      weight = linear->weight;
      bias = linear->bias;
    } else {
      continue;
    }
    const double fan_in = static_cast<double>(weight.numel() / weight.size(0));
    const double bound = 1.0 / std::sqrt(fan_in);
    weight.uniform_(-bound, bound, gen);
    if (bias.defined()) bias.uniform_(-bound, bound, gen);
  }
}

std::map<std::string, std::string> ConfigMetadata(
    const AttributeOracleConfig& c) {
  return {{"format", std::string(kFormat)},
          {"width", absl::StrCat(c.width)},
          {"feature_dim", absl::StrCat(c.feature_dim)},
          {"image_size", absl::StrCat(c.image_size)}};
}

absl::StatusOr<int> IntField(const std::map<std::string, std::string>& m,
                             const std::string& key) {
  auto it = m.find(key);
  int value = 0;
  if (it == m.end() || !absl::SimpleAtoi(it->second, &value)) {
    return absl::DataLossError(
        absl::StrCat("oracle file: missing or bad metadata \"", key, "\""));
  }
  return value;
}

absl::Status ValidateConfig(const AttributeOracleConfig& c) {
  if (c.width <= 0 || c.feature_dim <= 0 || c.image_size <= 0 ||
      c.image_size % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad oracle config: width=", c.width, " feature_dim=", c.feature_dim,
        " image_size=", c.image_size));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(const AttributeLabels& labels) {
  for (int h = 0; h < kNumOracleHeads; ++h) {
    const int v = labels.value[h];
    if (v < -1 || v >= kHeads[h].size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label ", v, " out of range for head ", kHeads[h].name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view HeadName(OracleHead head) { return Info(head).name; }
int HeadSize(OracleHead head) { return Info(head).size; }
bool HeadAppliesTo(OracleHead head, SceneKind family) {
  return Info(head).family < 0 ||
         Info(head).family == static_cast<int>(family);
}

int HeadOffset(OracleHead head) {
  int offset = 0;
  for (int h = 0; h < static_cast<int>(head); ++h) offset += kHeads[h].size;
  return offset;
}

int TotalHeadClasses() {
  return HeadOffset(OracleHead::kLandmarkCount) +
         HeadSize(OracleHead::kLandmarkCount);
}

AttributeLabels LabelsOf(const FaceIdentity& face) {
  AttributeLabels l;
  l[OracleHead::kFamily] = kFace;
  l[OracleHead::kEyeShape] = static_cast<int>(face.eye_shape);
  l[OracleHead::kEyeColor] = static_cast<int>(face.eye_color);
  l[OracleHead::kMouth] = static_cast<int>(face.mouth);
  l[OracleHead::kHairColor] = static_cast<int>(face.hair_color);
  l[OracleHead::kHairStyle] = static_cast<int>(face.hair_style);
  l[OracleHead::kSkin] = static_cast<int>(face.skin);
  l[OracleHead::kAccessory] = static_cast<int>(face.accessory);
  return l;
}

AttributeLabels LabelsOf(const LandmarkIdentity& landmark) {
  AttributeLabels l;
  l[OracleHead::kFamily] = kLandmark;
  l[OracleHead::kLandmarkType] = static_cast<int>(landmark.type);
  l[OracleHead::kMaterial] = static_cast<int>(landmark.material);
  l[OracleHead::kAccent] = static_cast<int>(landmark.accent);
  l[OracleHead::kLandmarkCount] = landmark.count - 1;
  return l;
}

AttributeLabels LabelsOf(const ShapeSpec& shape) {
  AttributeLabels l;
  l[OracleHead::kFamily] = kShape;
  l[OracleHead::kShapeKind] = static_cast<int>(shape.kind);
  l[OracleHead::kShapeColor] = static_cast<int>(shape.color);
  l[OracleHead::kShapeSize] = static_cast<int>(shape.size);
  return l;
}

AttributeLabels WithBackground(AttributeLabels labels, Color background) {
  labels[OracleHead::kBackground] = static_cast<int>(background);
  return labels;
}

FaceIdentity AttributePrediction::face() const {
  FaceIdentity f;
  f.eye_shape = static_cast<EyeShape>(label[OracleHead::kEyeShape]);
  f.eye_color = static_cast<EyeColor>(label[OracleHead::kEyeColor]);
  f.mouth = static_cast<Mouth>(label[OracleHead::kMouth]);
  f.hair_color = static_cast<HairColor>(label[OracleHead::kHairColor]);
  f.hair_style = static_cast<HairStyle>(label[OracleHead::kHairStyle]);
  f.skin = static_cast<SkinTone>(label[OracleHead::kSkin]);
  f.accessory = static_cast<Accessory>(label[OracleHead::kAccessory]);
  return f;
}

LandmarkIdentity AttributePrediction::landmark() const {
  LandmarkIdentity l;
  l.type = static_cast<LandmarkType>(label[OracleHead::kLandmarkType]);
  l.material = static_cast<Material>(label[OracleHead::kMaterial]);
  l.accent = static_cast<Accent>(label[OracleHead::kAccent]);
  l.count = label[OracleHead::kLandmarkCount] + 1;
  return l;
}

AttributeOracleNetImpl::AttributeOracleNetImpl(const AttributeOracleConfig& c) {
  const int w = c.width;
  nn::Sequential trunk;
  AddConvBlock(trunk, 3, w, 1);
  AddConvBlock(trunk, w, 2 * w, 2);
  AddConvBlock(trunk, 2 * w, 4 * w, 2);
  AddConvBlock(trunk, 4 * w, 4 * w, 2);
  trunk_ = register_module("trunk", trunk);
  const int cells = (c.image_size / 8) * (c.image_size / 8);
  feature_ =
      register_module("feature", nn::Linear(4 * w * cells, c.feature_dim));
  heads_ =
      register_module("heads", nn::Linear(c.feature_dim, TotalHeadClasses()));
}

std::pair<torch::Tensor, torch::Tensor> AttributeOracleNetImpl::forward(
    const torch::Tensor& x) {
  torch::Tensor features =
      torch::relu(feature_->forward(trunk_->forward(x).flatten(1)));
  return {features, heads_->forward(features)};
}

AttributeOracle::AttributeOracle(const AttributeOracleConfig& config,
                                 AttributeOracleNet net)
    : config_(config), net_(std::move(net)) {}

absl::StatusOr<std::unique_ptr<AttributeOracle>> AttributeOracle::Create(
    const AttributeOracleConfig& config, uint64_t init_seed) {
  STAMINA_RETURN_IF_ERROR(ValidateConfig(config));
  STAMINA_ASSIGN_OR_RETURN(AttributeOracleNet net, RunTorch([&] {
                             AttributeOracleNet n(config);
                             InitWeights(*n, init_seed);
                             n->eval();
                             return n;
                           }));
  return std::unique_ptr<AttributeOracle>(
      new AttributeOracle(config, std::move(net)));
}

absl::StatusOr<std::unique_ptr<AttributeOracle>> AttributeOracle::Load(
    const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(Safetensors file, ReadSafetensors(path));
  const auto& metadata = file.header.metadata;
  auto format = metadata.find("format");
  if (format == metadata.end() || format->second != kFormat) {
    return absl::DataLossError(
        absl::StrCat(path, ": not an attribute oracle file"));
  }
  AttributeOracleConfig config;
  STAMINA_ASSIGN_OR_RETURN(config.width, IntField(metadata, "width"));
  STAMINA_ASSIGN_OR_RETURN(config.feature_dim,
                           IntField(metadata, "feature_dim"));
  STAMINA_ASSIGN_OR_RETURN(config.image_size, IntField(metadata, "image_size"));
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<AttributeOracle> oracle,
                           Create(config, 0));
  STAMINA_RETURN_IF_ERROR(
      LoadStateDict(*oracle->net_, file.tensors).status())
      << path;
  return oracle;
}

absl::Status AttributeOracle::Save(const std::string& path) const {
  return WriteSafetensors(path, StateDict(*net_), ConfigMetadata(config_));
}

absl::Status AttributeOracle::ValidateBatch(const torch::Tensor& batch) const {
  const int64_t s = config_.image_size;
  if (!batch.defined() || batch.dim() != 4 || batch.size(0) == 0 ||
      batch.size(1) != 3 || batch.size(2) != s || batch.size(3) != s ||
      !batch.is_floating_point()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "oracle input must be a non-empty float [B, 3, ", s, ", ", s,
        "] batch, got ",
        batch.defined() ? std::string(batch.sizes().vec().empty()
                                          ? "a scalar"
                                          : c10::str(batch.sizes()))
                        : "an undefined tensor"));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> AttributeOracle::ToBatch(
    const std::vector<Image>& images) const {
  if (images.empty()) {
    return absl::InvalidArgumentError("oracle input: no images");
  }
  for (size_t i = 0; i < images.size(); ++i) {
    const Image& image = images[i];
    if (image.width != config_.image_size ||
        image.height != config_.image_size ||
        image.pixels.size() != static_cast<size_t>(image.width) *
                                   static_cast<size_t>(image.height) * 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "oracle input: image ", i, " is ", image.width, "x", image.height,
          ", want ", config_.image_size, "x", config_.image_size));
    }
  }
  return RunTorch([&] { return ImagesToTensor(images); });
}

absl::StatusOr<std::vector<torch::Tensor>> AttributeOracle::LogProbs(
    const torch::Tensor& batch) const {
  STAMINA_RETURN_IF_ERROR(ValidateBatch(batch));
  return RunTorch([&] {
    torch::NoGradGuard no_grad;
    torch::Tensor logits =
        net_->forward(batch.to(torch::kFloat32)).second;
    std::vector<torch::Tensor> out;
    for (int h = 0; h < kNumOracleHeads; ++h) {
      const OracleHead head = static_cast<OracleHead>(h);
      out.push_back(torch::log_softmax(
          logits.narrow(1, HeadOffset(head), HeadSize(head)), 1));
    }
    return out;
  });
}

absl::StatusOr<std::vector<AttributePrediction>> AttributeOracle::Predict(
    const torch::Tensor& batch) const {
  STAMINA_ASSIGN_OR_RETURN(std::vector<torch::Tensor> log_probs,
                           LogProbs(batch));
  return RunTorch([&] {
    std::vector<AttributePrediction> out(batch.size(0));
    for (int h = 0; h < kNumOracleHeads; ++h) {
      auto [best, index] = log_probs[h].max(1);
      auto best_a = best.accessor<float, 1>();
      auto index_a = index.accessor<int64_t, 1>();
      for (size_t i = 0; i < out.size(); ++i) {
        out[i].label.value[h] = static_cast<int>(index_a[i]);
        out[i].confidence[h] = std::exp(best_a[i]);
      }
    }
    return out;
  });
}

absl::StatusOr<std::vector<AttributePrediction>> AttributeOracle::Predict(
    const std::vector<Image>& images) const {
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor batch, ToBatch(images));
  return Predict(batch);
}

absl::StatusOr<torch::Tensor> AttributeOracle::Features(
    const torch::Tensor& batch) const {
  STAMINA_RETURN_IF_ERROR(ValidateBatch(batch));
  return RunTorch([&] {
    torch::NoGradGuard no_grad;
    torch::Tensor f = net_->forward(batch.to(torch::kFloat32)).first;
    return f / f.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  });
}

absl::StatusOr<torch::Tensor> AttributeOracle::Features(
    const std::vector<Image>& images) const {
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor batch, ToBatch(images));
  return Features(batch);
}

absl::StatusOr<std::vector<int>> AttributeOracle::MatchIdentities(
    const std::vector<Image>& images,
    const std::vector<AttributeLabels>& candidates) const {
  if (candidates.empty()) {
    return absl::InvalidArgumentError("MatchIdentities: no candidates");
  }
  for (const AttributeLabels& c : candidates) {
    STAMINA_RETURN_IF_ERROR(ValidateLabels(c));
  }
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor batch, ToBatch(images));
  STAMINA_ASSIGN_OR_RETURN(std::vector<torch::Tensor> log_probs,
                           LogProbs(batch));
  return RunTorch([&] {
    // scores[b, c] = sum over specified heads of log p(candidate's class).
    torch::Tensor scores = torch::zeros(
        {batch.size(0), static_cast<int64_t>(candidates.size())});
    for (int h = 0; h < kNumOracleHeads; ++h) {
      std::vector<int64_t> cls;
      std::vector<float> used;
      for (const AttributeLabels& c : candidates) {
        cls.push_back(c.value[h] < 0 ? 0 : c.value[h]);
        used.push_back(c.value[h] < 0 ? 0.0f : 1.0f);
      }
      torch::Tensor picked =
          log_probs[h].index_select(1, torch::tensor(cls, torch::kInt64));
      scores += picked * torch::tensor(used);
    }
    torch::Tensor best = scores.argmax(1);
    std::vector<int> out;
    for (int64_t i = 0; i < best.size(0); ++i) {
      out.push_back(static_cast<int>(best[i].item<int64_t>()));
    }
    return out;
  });
}

absl::StatusOr<std::vector<double>> AttributeOracle::AttributeScores(
    const std::vector<Image>& images, const AttributeLabels& target) const {
  STAMINA_RETURN_IF_ERROR(ValidateLabels(target));
  int specified = 0;
  for (int v : target.value) specified += v >= 0 ? 1 : 0;
  if (specified == 0) {
    return absl::InvalidArgumentError("AttributeScores: empty target");
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<AttributePrediction> predictions,
                           Predict(images));
  std::vector<double> out;
  for (const AttributePrediction& p : predictions) out.push_back(AttributeScore(p, target));
  return out;
}

double AttributeScore(const AttributePrediction& prediction, const AttributeLabels& target) {
  int specified = 0, correct = 0;
  for (int h = 0; h < kNumOracleHeads; ++h) {
    if (target.value[h] < 0) continue;
    ++specified;
    if (prediction.label.value[h] == target.value[h]) ++correct;
  }
  return specified == 0 ? 0 : static_cast<double>(correct) / specified;
}

}  // namespace stamina::core
