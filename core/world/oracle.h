// File: core/world/oracle.h
//
// Owns the attribute oracle: a small CNN trained on renders of the synthetic
// world only (never on model samples; see oracle_training.h) and used only
// for evaluation. It reads a 32 x 32 image's family (face, landmark, shape),
// background colour and every attribute of that family, and gives an
// L2-normalised penultimate-layer embedding for distribution distances (MMD).
//
// Labels are arrays indexed by OracleHead; -1 means "not applicable / not
// specified" (a face has no shape colour; an identity tuple names no
// background). Benchmarks build target labels from identity tuples with
// LabelsOf() and compare them with Predict(), MatchIdentities() and
// AttributeScores().
#ifndef STAMINA_CORE_WORLD_ORACLE_H_
#define STAMINA_CORE_WORLD_ORACLE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/image.h"
#include "core/world/attributes.h"
#include "core/world/renderer.h"
#include "torch/torch.h"

namespace stamina::core {

// One classification head per attribute. kFamily classes follow SceneKind;
// kBackground and kShapeColor follow Color; the others follow their enums in
// attributes.h, and kLandmarkCount's class is count - 1.
enum class OracleHead {
  kFamily,
  kBackground,
  kShapeKind,
  kShapeColor,
  kShapeSize,
  kEyeShape,
  kEyeColor,
  kMouth,
  kHairColor,
  kHairStyle,
  kSkin,
  kAccessory,
  kLandmarkType,
  kMaterial,
  kAccent,
  kLandmarkCount,
};
inline constexpr int kNumOracleHeads = 16;

// "family", "background", "shape_kind", ..., "landmark_count".
absl::string_view HeadName(OracleHead head);
// Number of classes of the head.
int HeadSize(OracleHead head);
// Whether the head applies to images of `family` (family and background
// apply to all).
bool HeadAppliesTo(OracleHead head, SceneKind family);

// Class per head; -1 where not applicable or not specified.
struct AttributeLabels {
  std::array<int, kNumOracleHeads> value;

  AttributeLabels() { value.fill(-1); }
  int operator[](OracleHead head) const {
    return value[static_cast<int>(head)];
  }
  int& operator[](OracleHead head) { return value[static_cast<int>(head)]; }
};

// Family and attributes of an identity or shape; background unspecified
// unless set with WithBackground.
AttributeLabels LabelsOf(const FaceIdentity& face);
AttributeLabels LabelsOf(const LandmarkIdentity& landmark);
AttributeLabels LabelsOf(const ShapeSpec& shape);
AttributeLabels WithBackground(AttributeLabels labels, Color background);

// What the oracle reads from one image: the most probable class of every
// head (heads of other families included, though they mean nothing there)
// and its softmax probability.
struct AttributePrediction {
  AttributeLabels label;
  std::array<float, kNumOracleHeads> confidence{};

  SceneKind family() const {
    return static_cast<SceneKind>(label[OracleHead::kFamily]);
  }
  Color background() const {
    return static_cast<Color>(label[OracleHead::kBackground]);
  }
  // The face / landmark tuple the attribute heads read (meaningful when
  // family() says so).
  FaceIdentity face() const;
  LandmarkIdentity landmark() const;
};

// The fraction of `target`'s specified heads whose class `prediction` reads
// (what AttributeScores returns per image); 0 when target specifies nothing.
double AttributeScore(const AttributePrediction& prediction, const AttributeLabels& target);

struct AttributeOracleConfig {
  // Channels of the four 3x3 conv layers are width, 2*width, 4*width,
  // 4*width; the feature vector has feature_dim entries.
  int width = 16;
  int feature_dim = 128;
  int image_size = kDefaultImageSize;
};

// The network: four 3x3 convs (GroupNorm + ReLU; the last three stride 2,
// down to S/8 x S/8), flattened (not globally pooled: faces are laid out at
// fixed places, so where a blob is tells eyes from mouth from hat; global
// average pooling learned shape kinds, eye shapes and mouths far slower), a
// linear layer to the feature vector (ReLU), and one linear layer holding
// every head's logits side by side.
class AttributeOracleNetImpl : public torch::nn::Module {
 public:
  explicit AttributeOracleNetImpl(const AttributeOracleConfig& config);

  // [B, 3, S, S] in [-1, 1] → {features [B, D] (before normalisation),
  // logits [B, sum of head sizes]}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential trunk_{nullptr};
  torch::nn::Linear feature_{nullptr};
  torch::nn::Linear heads_{nullptr};
};
TORCH_MODULE(AttributeOracleNet);

// Offset of each head's logits in the net's concatenated output.
int HeadOffset(OracleHead head);
// Sum of HeadSize over all heads.
int TotalHeadClasses();

// The trained classifier. Inference methods are const and do not change the
// weights. Thread-compatible: concurrent const calls are safe; mutable_net()
// (training) must not overlap with them.
class AttributeOracle {
 public:
  // Fresh weights drawn from `init_seed` (deterministic; LibTorch's global
  // generator is not used). INVALID_ARGUMENT for a non-positive width or
  // feature_dim, or an image_size that is not a multiple of 8.
  static absl::StatusOr<std::unique_ptr<AttributeOracle>> Create(
      const AttributeOracleConfig& config, uint64_t init_seed);
  // Reads what Save wrote. NOT_FOUND etc. when the file cannot be read,
  // DATA_LOSS when it is not an oracle file, INVALID_ARGUMENT when its
  // tensors do not match its config.
  static absl::StatusOr<std::unique_ptr<AttributeOracle>> Load(
      const std::string& path);
  // Writes config and weights (safetensors) atomically.
  absl::Status Save(const std::string& path) const;

  const AttributeOracleConfig& config() const { return config_; }

  // Images must be non-empty, all config().image_size square; otherwise
  // INVALID_ARGUMENT. The tensor overloads take [B, 3, S, S] in [-1, 1]
  // (ImagesToTensor's output, or a pipeline's decoded samples).
  absl::StatusOr<std::vector<AttributePrediction>> Predict(
      const std::vector<Image>& images) const;
  absl::StatusOr<std::vector<AttributePrediction>> Predict(
      const torch::Tensor& batch) const;
  // Penultimate-layer embeddings, [B, feature_dim], unit L2 norm, float32.
  absl::StatusOr<torch::Tensor> Features(
      const std::vector<Image>& images) const;
  absl::StatusOr<torch::Tensor> Features(const torch::Tensor& batch) const;
  // Per-head log-softmax, each [B, HeadSize(head)], indexed by OracleHead.
  absl::StatusOr<std::vector<torch::Tensor>> LogProbs(
      const torch::Tensor& batch) const;

  // For each image, the index of the candidate whose specified labels have
  // the highest summed log-probability (ties: the lowest index). Candidates
  // are typically LabelsOf(identity) for N identities of one family.
  // INVALID_ARGUMENT for no candidates or out-of-range labels.
  absl::StatusOr<std::vector<int>> MatchIdentities(
      const std::vector<Image>& images,
      const std::vector<AttributeLabels>& candidates) const;

  // For each image, the fraction of `target`'s specified heads (family
  // included when specified) whose predicted class equals the target's.
  // INVALID_ARGUMENT when target specifies nothing.
  absl::StatusOr<std::vector<double>> AttributeScores(
      const std::vector<Image>& images, const AttributeLabels& target) const;

  // The module, for training (oracle_training.h).
  AttributeOracleNet& mutable_net() { return net_; }

 private:
  AttributeOracle(const AttributeOracleConfig& config, AttributeOracleNet net);

  absl::Status ValidateBatch(const torch::Tensor& batch) const;
  absl::StatusOr<torch::Tensor> ToBatch(const std::vector<Image>& images) const;

  AttributeOracleConfig config_;
  mutable AttributeOracleNet net_;  // forward() is non-const in LibTorch
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_ORACLE_H_
