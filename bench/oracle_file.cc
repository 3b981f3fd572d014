#include "bench/oracle_file.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/world/oracle_training.h"

namespace stamina::bench {

std::string OracleCachePath(int training_steps) {
  std::string dir;
  if (const char* cache = std::getenv("STAMINA_CACHE_DIR"); cache != nullptr && *cache != 0) {
    dir = cache;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != 0) {
    dir = absl::StrCat(xdg, "/stamina");
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != 0) {
    dir = absl::StrCat(home, "/.cache/stamina");
  } else {
    dir = "/tmp/stamina-cache";
  }
  return absl::StrCat(dir, "/oracle-", training_steps, "-r", kOracleRecipe, ".safetensors");
}

absl::StatusOr<std::unique_ptr<core::AttributeOracle>> LoadOrTrainOracle(
    const std::string& path, int training_steps) {
  if (std::ifstream(path).good()) return core::AttributeOracle::Load(path);
  // 6000 steps took 12 min on one idle core and about 17 with another process
  // on the machine (2-core Xeon, 2026-11).
  std::fprintf(stderr,
               "the oracle is not at %s: training it first (%d steps, about %d minutes on one "
               "thread); later runs reuse the file\n",
               path.c_str(), training_steps, std::max(1, training_steps * 17 / 6000));
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
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
