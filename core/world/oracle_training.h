// File: core/world/oracle_training.h
//
// Owns how the attribute oracle (oracle.h) is trained and measured: from
// renders only. Scenes are drawn uniformly over attribute tuples (reserved,
// held-out tuples included, so the oracle reads any identity, not only the
// pretraining ones) with the renderer's own random RenderParams (contrasting
// backgrounds, shift, scale, mirror); the loss is the sum over heads of the
// cross-entropy of the heads that apply to each image's family; AdamW with
// a warm-up and cosine decay. Everything is a pure function of the seed.
// Thread-compatible: no shared state (LibTorch's intra-op threads aside).
#ifndef STAMINA_CORE_WORLD_ORACLE_TRAINING_H_
#define STAMINA_CORE_WORLD_ORACLE_TRAINING_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/image.h"
#include "core/world/oracle.h"
#include "core/world/renderer.h"

namespace stamina::core {

// One labelled render.
struct OracleScene {
  Image image;
  AttributeLabels labels;  // family, background and the family's attributes
};

// A render from `seed`: 40% faces, 30% landmarks, 30% shapes (as the
// pretraining stream), the face / landmark tuple uniform over all tuples.
OracleScene DrawOracleScene(uint64_t seed, int size = kDefaultImageSize);

// `count` scenes from a stream disjoint from any training run's (a
// different derivation tag), for held-out accuracy.
std::vector<OracleScene> HeldOutOracleScenes(uint64_t seed, int count,
                                             int size = kDefaultImageSize);

struct OracleTrainingOptions {
  int steps = 2000;
  int batch = 64;
  double lr = 3e-3;  // peak; warm-up over min(100, steps / 10) steps
  double weight_decay = 1e-4;
  uint64_t seed = 0;
  // Gaussian pixel noise (in [-1, 1] units) added to every training image,
  // so the oracle tolerates the grain of model samples.
  double noise_std = 0.04;
  AttributeOracleConfig config;
  // The progress callback runs every this many steps and after the last.
  int progress_every = 50;
};

struct OracleTrainingProgress {
  int step = 0;  // steps done
  int steps = 0;
  double loss = 0;  // mean loss over the steps since the last report
};

using OracleProgressFn = std::function<void(const OracleTrainingProgress&)>;

// Trains a fresh oracle. INVALID_ARGUMENT for non-positive steps or batch,
// negative lr / weight_decay / noise_std, or a bad config.
absl::StatusOr<std::unique_ptr<AttributeOracle>> TrainAttributeOracle(
    const OracleTrainingOptions& options,
    const OracleProgressFn& progress = nullptr);

// Per-head accuracy over the scenes whose labels specify that head.
struct OracleEvaluation {
  std::array<int, kNumOracleHeads> correct{};
  std::array<int, kNumOracleHeads> total{};

  double Accuracy(OracleHead head) const {
    const int h = static_cast<int>(head);
    return total[h] == 0 ? 0.0 : static_cast<double>(correct[h]) / total[h];
  }
};

// Runs the oracle over `scenes` in batches of `batch`.
absl::StatusOr<OracleEvaluation> EvaluateOracle(
    const AttributeOracle& oracle, const std::vector<OracleScene>& scenes,
    int batch = 256);

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_ORACLE_TRAINING_H_
