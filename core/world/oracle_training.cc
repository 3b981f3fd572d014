#include "core/world/oracle_training.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/pipelines/image_tensor.h"
#include "core/torch_status.h"
#include "core/world/prng.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

constexpr uint64_t kSceneTag = 0x6f7261636c650001ULL;
constexpr uint64_t kTrainTag = 0x6f7261636c650002ULL;
constexpr uint64_t kHeldOutTag = 0x6f7261636c650003ULL;
constexpr uint64_t kInitTag = 0x6f7261636c650004ULL;
constexpr uint64_t kNoiseTag = 0x6f7261636c650005ULL;

absl::Status ValidateOptions(const OracleTrainingOptions& o) {
  if (o.steps <= 0 || o.batch <= 0 || !(o.lr >= 0) ||
      !(o.weight_decay >= 0) || !(o.noise_std >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad oracle training options: steps=", o.steps, " batch=", o.batch,
        " lr=", o.lr, " weight_decay=", o.weight_decay,
        " noise_std=", o.noise_std));
  }
  return absl::OkStatus();
}

double LearningRate(const OracleTrainingOptions& o, int step) {
  const int warmup = std::max(1, std::min(100, o.steps / 10));
  const double ramp = std::min(1.0, static_cast<double>(step + 1) / warmup);
  const double progress = static_cast<double>(step) / o.steps;
  return o.lr * ramp * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// [B, kNumOracleHeads] int64 labels, -1 where a head does not apply.
torch::Tensor LabelTensor(const std::vector<OracleScene>& scenes) {
  torch::Tensor labels = torch::empty(
      {static_cast<int64_t>(scenes.size()), kNumOracleHeads}, torch::kInt64);
  auto a = labels.accessor<int64_t, 2>();
  for (size_t i = 0; i < scenes.size(); ++i) {
    for (int h = 0; h < kNumOracleHeads; ++h) {
      a[i][h] = scenes[i].labels.value[h];
    }
  }
  return labels;
}

// Sum over heads of the mean cross-entropy over the images the head applies
// to (a head with no such image in the batch adds 0).
torch::Tensor MaskedLoss(const torch::Tensor& logits,
                         const torch::Tensor& labels) {
  torch::Tensor loss = torch::zeros({}, logits.options());
  for (int h = 0; h < kNumOracleHeads; ++h) {
    const OracleHead head = static_cast<OracleHead>(h);
    torch::Tensor target = labels.select(1, h);
    torch::Tensor mask = target.ge(0).to(logits.scalar_type());
    torch::Tensor ce = torch::nn::functional::cross_entropy(
        logits.narrow(1, HeadOffset(head), HeadSize(head)),
        target.clamp_min(0),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(
            torch::kNone));
    loss = loss + (ce * mask).sum() / mask.sum().clamp_min(1.0);
  }
  return loss;
}

std::vector<OracleScene> TrainingBatch(uint64_t stream, int step, int batch,
                                       int size) {
  std::vector<OracleScene> scenes;
  scenes.reserve(batch);
  for (int i = 0; i < batch; ++i) {
    const uint64_t index = static_cast<uint64_t>(step) * batch + i;
    scenes.push_back(DrawOracleScene(DeriveSeed(stream, index), size));
  }
  return scenes;
}

torch::Tensor SceneImages(const std::vector<OracleScene>& scenes) {
  std::vector<Image> images;
  images.reserve(scenes.size());
  for (const OracleScene& s : scenes) images.push_back(s.image);
  return ImagesToTensor(images);
}

}  // namespace

OracleScene DrawOracleScene(uint64_t seed, int size) {
  SplitMix64 rng(DeriveSeed(seed, kSceneTag));
  const uint32_t pick = rng.Below(10);
  const uint64_t render_seed = rng.Next();
  OracleScene scene;
  if (pick < 4) {
    const FaceIdentity face =
        FaceIdentity::FromTupleIndex(rng.Below(kNumFaceTuples));
    const RenderParams params =
        RenderParams::FromSeed(render_seed, size, ContrastingBackgrounds(face));
    scene.image = RenderFace(face, params);
    scene.labels = WithBackground(LabelsOf(face), params.background);
  } else if (pick < 7) {
    const LandmarkIdentity landmark =
        LandmarkIdentity::FromTupleIndex(rng.Below(kNumLandmarkTuples));
    const RenderParams params = RenderParams::FromSeed(
        render_seed, size, ContrastingBackgrounds(landmark));
    scene.image = RenderLandmark(landmark, params);
    scene.labels = WithBackground(LabelsOf(landmark), params.background);
  } else {
    const RenderParams params = RenderParams::FromSeed(render_seed, size);
    const ShapeSpec shape = ShapeSpec::FromSeed(rng.Next(), params.background);
    scene.image = RenderShape(shape, params);
    scene.labels = WithBackground(LabelsOf(shape), params.background);
  }
  return scene;
}

std::vector<OracleScene> HeldOutOracleScenes(uint64_t seed, int count,
                                             int size) {
  const uint64_t stream = DeriveSeed(seed, kHeldOutTag);
  std::vector<OracleScene> scenes;
  for (int i = 0; i < count; ++i) {
    scenes.push_back(DrawOracleScene(DeriveSeed(stream, i), size));
  }
  return scenes;
}

absl::StatusOr<std::unique_ptr<AttributeOracle>> TrainAttributeOracle(
    const OracleTrainingOptions& options, const OracleProgressFn& progress) {
  STAMINA_RETURN_IF_ERROR(ValidateOptions(options));
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<AttributeOracle> oracle,
      AttributeOracle::Create(options.config,
                              DeriveSeed(options.seed, kInitTag)));
  AttributeOracleNet& net = oracle->mutable_net();
  const uint64_t stream = DeriveSeed(options.seed, kTrainTag);
  const int every = std::max(1, options.progress_every);
  STAMINA_RETURN_IF_ERROR(RunTorch([&] {
    net->train();
    torch::optim::AdamW optimizer(
        net->parameters(), torch::optim::AdamWOptions(options.lr)
                               .weight_decay(options.weight_decay));
    at::Generator noise_gen = at::make_generator<at::CPUGeneratorImpl>(
        DeriveSeed(options.seed, kNoiseTag));
    double loss_sum = 0;
    int loss_count = 0;
    for (int step = 0; step < options.steps; ++step) {
      const double lr = LearningRate(options, step);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      const std::vector<OracleScene> scenes = TrainingBatch(
          stream, step, options.batch, options.config.image_size);
      torch::Tensor x = SceneImages(scenes);
      if (options.noise_std > 0) {
        x = x + options.noise_std *
                    torch::randn(x.sizes(), noise_gen, x.options());
      }
      torch::Tensor loss = MaskedLoss(net->forward(x).second,
                                      LabelTensor(scenes));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      ++loss_count;
      if (progress && ((step + 1) % every == 0 || step + 1 == options.steps)) {
        progress({.step = step + 1,
                  .steps = options.steps,
                  .loss = loss_sum / loss_count});
        loss_sum = 0;
        loss_count = 0;
      }
    }
    net->eval();
  })) << "training the attribute oracle";
  return oracle;
}

absl::StatusOr<OracleEvaluation> EvaluateOracle(
    const AttributeOracle& oracle, const std::vector<OracleScene>& scenes,
    int batch) {
  if (batch <= 0) {
    return absl::InvalidArgumentError("EvaluateOracle: batch must be > 0");
  }
  OracleEvaluation eval;
  for (size_t start = 0; start < scenes.size(); start += batch) {
    const size_t end = std::min(scenes.size(), start + batch);
    std::vector<Image> images;
    for (size_t i = start; i < end; ++i) images.push_back(scenes[i].image);
    STAMINA_ASSIGN_OR_RETURN(std::vector<AttributePrediction> predictions,
                             oracle.Predict(images));
    for (size_t i = start; i < end; ++i) {
      const AttributePrediction& p = predictions[i - start];
      for (int h = 0; h < kNumOracleHeads; ++h) {
        const int want = scenes[i].labels.value[h];
        if (want < 0) continue;
        ++eval.total[h];
        if (p.label.value[h] == want) ++eval.correct[h];
      }
    }
  }
  return eval;
}

}  // namespace stamina::core
