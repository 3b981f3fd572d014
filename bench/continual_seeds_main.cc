// continual_seeds: the continual benchmark over several seeds (issue #17).
// Reads DIR/continual.json of one `bench:continual` run per seed and writes
// the means with 95% intervals, the paired verdicts of --ours against each
// baseline and the targets:
//
//   bazel run -c opt //bench:continual_seeds -- --runs=D0,D1,D2
//       --ours=stamina-project+rms+init --baselines=clora-init,lora-init --out=DIR
//       [--budget_runs=H0,H1,H2]
//
// Writes DIR/continual.json, DIR/continual.md, DIR/plasticity.png, and copies
// the first run's samples.png. Cheap: no model is loaded.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "bench/continual/seed_report.h"
#include "common/process.h"
#include "core/world/png.h"

ABSL_FLAG(std::string, runs, "",
          "Comma-separated run directories: one per seed, or several per seed holding "
          "different methods");
ABSL_FLAG(std::string, budget_runs, "",
          "Comma-separated runs of --ours with fewer steps per concept (same seeds)");
ABSL_FLAG(std::string, ours, "stamina-project+rms+init", "The method the verdicts are about");
ABSL_FLAG(std::string, ours_budget, "",
          "Its label in --budget_runs when that differs (e.g. an early-stopping variant run "
          "beside it: then --budget_runs may name the same runs); empty = --ours");
ABSL_FLAG(std::string, baselines, "clora-init,lora-init", "Comma-separated baseline labels");
ABSL_FLAG(std::string, out, "/tmp/stamina-continual-seeds", "Output directory");

namespace stamina::bench {
namespace {

absl::StatusOr<std::vector<SeedRun>> ReadRuns(const std::string& list) {
  std::vector<SeedRun> runs;
  for (const std::string& dir :
       std::vector<std::string>(absl::StrSplit(list, ',', absl::SkipEmpty()))) {
    const std::string path = stamina::WorkspacePath(dir);
    std::ifstream in(path + "/continual.json");
    if (!in) return absl::NotFoundError("runs: no continual.json in " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto run = ParseSeedRun(text.str(), dir);
    if (!run.ok()) return run.status();
    runs.push_back(*std::move(run));
  }
  return MergeSeedRuns(std::move(runs));
}

int Run() {
  auto runs = ReadRuns(absl::GetFlag(FLAGS_runs));
  auto budget = ReadRuns(absl::GetFlag(FLAGS_budget_runs));
  if (!runs.ok() || !budget.ok()) {
    std::fprintf(stderr, "%s %s\n", runs.status().ToString().c_str(),
                 budget.status().ToString().c_str());
    return 1;
  }
  SeedReportOptions options{
      .ours = absl::GetFlag(FLAGS_ours),
      .baselines = absl::StrSplit(absl::GetFlag(FLAGS_baselines), ',', absl::SkipEmpty()),
      .budget_runs = *budget,
      .ours_budget_label = absl::GetFlag(FLAGS_ours_budget)};
  auto report = BuildSeedReport(*runs, options);
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 1;
  }
  const std::string out = stamina::WorkspacePath(absl::GetFlag(FLAGS_out));
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  std::ofstream(out + "/continual.json") << report->json.dump(2) << "\n";
  std::ofstream(out + "/continual.md") << report->markdown;
  if (absl::Status s = core::WritePng(report->plasticity_chart, out + "/plasticity.png"); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::ifstream samples(stamina::WorkspacePath((*runs)[0].directory) + "/samples.png",
                        std::ios::binary);
  if (samples) std::ofstream(out + "/samples.png", std::ios::binary) << samples.rdbuf();
  std::printf("%s", report->markdown.c_str());
  return 0;
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return stamina::bench::Run();
}
