// read_samples: what the attribute oracle reads in PNG samples, for the README
// demo's concepts (bench/continual/concept_sequence.h, family "demo"):
//
//   bazel run -c opt //bench:read_samples -- --oracle=FILE demo-out/anna/*.png
//
// Prints one line per file: the attribute score against <anna> and <tower>
// and whether the sample reads as each (score >= kReadsAsThreshold), then the
// counts. The oracle is read from --oracle, or trained (deterministically)
// and saved there when the file does not exist.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "bench/oracle_file.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "core/image.h"
#include "tools/image_file.h"

ABSL_FLAG(
    std::string, oracle, "",
    "Oracle file (default: the machine's cache, ~/.cache/stamina/oracle-STEPS-rN.safetensors; "
    "trained there first when absent)");
ABSL_FLAG(int, oracle_steps, stamina::bench::kDefaultOracleSteps,
          "Steps when the oracle has to be trained");

namespace stamina::bench {
namespace {

absl::Status Run(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("no PNG files given");
  STAMINA_ASSIGN_OR_RETURN(
      auto oracle, LoadOrTrainOracle(absl::GetFlag(FLAGS_oracle).empty()
                                         ? OracleCachePath(absl::GetFlag(FLAGS_oracle_steps))
                                         : WorkspacePath(absl::GetFlag(FLAGS_oracle)),
                                     absl::GetFlag(FLAGS_oracle_steps)));
  STAMINA_ASSIGN_OR_RETURN(std::vector<BenchConcept> concepts,
                           BuildConceptSequence("demo", 2, 0, 1, 2));
  STAMINA_ASSIGN_OR_RETURN(ConceptScorer scorer,
                           ConceptScorer::Create(oracle.get(), &concepts, {}));
  std::vector<core::Image> images;
  for (const std::string& path : paths) {
    STAMINA_ASSIGN_OR_RETURN(core::Image image, tools::ReadImageFile(WorkspacePath(path)));
    images.push_back(std::move(image));
  }
  // One oracle pass: scores and misses both come from these predictions.
  STAMINA_ASSIGN_OR_RETURN(std::vector<core::AttributePrediction> predictions,
                           oracle->Predict(images));
  std::vector<std::vector<double>> scores;
  for (const BenchConcept& c : concepts) {
    std::vector<double> s;
    for (const core::AttributePrediction& p : predictions) {
      s.push_back(core::AttributeScore(p, c.labels));
    }
    scores.push_back(s);
  }
  std::vector<int> reads(concepts.size(), 0);
  for (size_t k = 0; k < images.size(); ++k) {
    std::string line = paths[k] + ":";
    size_t best = 0;
    for (size_t c = 0; c < concepts.size(); ++c) {
      const bool as = scores[c][k] >= kReadsAsThreshold;
      reads[c] += as;
      if (scores[c][k] > scores[best][k]) best = c;
      absl::StrAppend(&line, " ", concepts[c].token, " ", scores[c][k], as ? " (reads)" : "");
    }
    // What keeps the closest concept from a perfect read.
    std::vector<std::string> misses;
    for (int h = 0; h < core::kNumOracleHeads; ++h) {
      const int wanted = concepts[best].labels.value[h];
      if (wanted >= 0 && predictions[k].label.value[h] != wanted) {
        misses.push_back(std::string(core::HeadName(static_cast<core::OracleHead>(h))));
      }
    }
    if (!misses.empty()) {
      absl::StrAppend(&line, "; ", concepts[best].token, " misses ", absl::StrJoin(misses, ","));
    }
    std::printf("%s\n", line.c_str());
  }
  for (size_t c = 0; c < concepts.size(); ++c) {
    std::printf("reads as %s: %d of %zu\n", concepts[c].token.c_str(), reads[c], images.size());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const absl::Status status =
      stamina::bench::Run(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!status.ok()) {
    std::fprintf(stderr, "read_samples: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
