#include "bench/oracle_file.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/world/oracle_training.h"

namespace stamina::bench {

std::string DefaultOraclePath(const std::string& dir, int training_steps) {
  return absl::StrCat(dir, "/oracle-", training_steps, ".safetensors");
}

absl::StatusOr<std::unique_ptr<core::AttributeOracle>> LoadOrTrainOracle(
    const std::string& path, int training_steps) {
  if (std::ifstream(path).good()) return core::AttributeOracle::Load(path);
  std::fprintf(stderr, "training the oracle (%d steps) into %s\n", training_steps,
               path.c_str());
  core::OracleTrainingOptions options;
  options.steps = training_steps;
  auto oracle = core::TrainAttributeOracle(options, [](const core::OracleTrainingProgress& p) {
    std::fprintf(stderr, "\roracle %d/%d loss %.4f", p.step, p.steps, p.loss);
  });
  std::fprintf(stderr, "\n");
  if (!oracle.ok()) return oracle.status();
  if (absl::Status saved = (*oracle)->Save(path); !saved.ok()) return saved;
  return oracle;
}

}  // namespace stamina::bench
