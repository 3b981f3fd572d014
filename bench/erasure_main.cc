// erasure: the proof-of-erasure benchmark (issue #15; docs/api.md,
// ConceptService.EraseConcept). Learns N identities of the synthetic world
// one after another with the service's recipe, then erases concept k the way
// EraseConcept does: replay (restart from the model after k−1 concepts and
// train k+1 … N again, each with its own seed, as the replay jobs do with
// the recorded settings) and drop (the model after k−1 concepts). Every
// concept is read by the attribute oracle from samples of
// "a photo of <token>" on four models: unerased, replayed, dropped and the
// base model (the untaught level).
//
//   bazel run -c opt //bench:erasure -- --concepts=10 --erase=3 --out=DIR
//       --oracle=FILE [--family=faces] [--method=stamina-project+rms]
//
// Writes DIR/erasure.json, DIR/erasure.md, DIR/identity.png (identity
// accuracy per concept, one line per model) and DIR/samples.png (rows =
// models, columns = concepts). Trained artifacts are kept under
// DIR/progress/: a rerun of the same command reuses them.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "bench/continual/continual_report.h"
#include "bench/continual/line_plot.h"
#include "bench/continual/method_names.h"
#include "bench/oracle_file.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/base_models.h"
#include "core/torch_runtime.h"
#include "core/world/png.h"
#include "core/world/prng.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(int, concepts, 10, "Concepts learned one after another");
ABSL_FLAG(int, erase, 3, "The concept erased (1-based position)");
ABSL_FLAG(std::string, family, "faces", "faces, landmarks or mixed");
ABSL_FLAG(uint64_t, seed, 0, "Benchmark seed (identities, renders, training)");
ABSL_FLAG(std::string, method, "stamina-project+rms",
          "The method (bench:continual's names); the default is the service's recipe");
ABSL_FLAG(int, steps, 150, "Training steps per concept");
ABSL_FLAG(int, samples, 16, "Samples per scored concept");
ABSL_FLAG(int, sample_steps, 20, "DDIM steps per sample");
ABSL_FLAG(double, guidance, 5.0, "Classifier-free guidance scale");
ABSL_FLAG(std::string, out, "/tmp/stamina-erasure", "Output directory");
ABSL_FLAG(std::string, base_model, "models/stamina-tiny-v1", "Base model directory");
ABSL_FLAG(
    std::string, oracle, "",
    "Oracle file (default: the machine's cache, ~/.cache/stamina/oracle-STEPS-rN.safetensors; "
    "trained there first when absent)");
ABSL_FLAG(int, oracle_steps, stamina::bench::kDefaultOracleSteps,
          "Steps when the oracle has to be trained");
ABSL_FLAG(int, threads, stamina::core::kIdleCoreThreads,
          "LibTorch threads; -1 (default) = the idle cores at start (cores minus the 1-minute load "
          "average, at least 1: threads sharing a core with a busy process slow down badly); 0 = "
          "all cores");

namespace stamina::bench {
namespace {

using Clock = std::chrono::steady_clock;

void Log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

// As it would be typed: the binary is named by its Bazel label.
std::string& CommandLine() {
  static std::string* const line = new std::string("bazel run -c opt //bench:erasure --");
  return *line;
}

// One model's reading of every concept.
struct ModelReading {
  std::string label;
  std::vector<ConceptScore> scores;  // per concept
  std::vector<core::Image> samples;  // first sample per concept
  double train_seconds = 0;          // to build it from the previous step
  int concepts_trained = 0;
};

struct Sequence {
  const MethodSpec* method;
  const std::vector<BenchConcept>* concepts;
  uint64_t seed = 0;
};

// Trains `tasks` (indices into the sequence, in order) onto `model`, or
// folds the artifacts a previous run left in `dir` (with the same key).
absl::Status TrainTasks(const Sequence& seq, const std::vector<int>& tasks,
                        const nlohmann::json& key, const std::string& dir,
                        core::DiffusionModel& model, core::ContinualState& state,
                        ModelReading& reading) {
  if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) {
    return absl::InternalError("cannot create " + dir);
  }
  std::ifstream saved_key(dir + "/key.json");
  if (saved_key) {
    const nlohmann::json old = nlohmann::json::parse(saved_key, nullptr, false);
    if (old != key) {
      return absl::FailedPreconditionError(dir + " holds another run; remove it");
    }
  } else {
    STAMINA_RETURN_IF_ERROR(core::WriteFile(dir + "/key.json", key.dump()));
  }
  for (int t : tasks) {
    const std::string path = absl::StrCat(dir, "/task_", t, ".safetensors");
    std::ifstream in(path, std::ios::binary);
    if (in) {
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      STAMINA_ASSIGN_OR_RETURN(core::AdapterArtifact artifact, core::ParseAdapterArtifact(bytes));
      STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(artifact, model, state));
      Log(absl::StrFormat("%s: task %d reused from %s", reading.label, t + 1, path));
      continue;
    }
    const BenchConcept& c = (*seq.concepts)[t];
    core::ConceptTrainingRequest request;
    // The concept's own seed whatever precedes it: a replay job trains with
    // the settings (seed included) recorded for the erased version.
    request.adapter = {.config = seq.method->config,
                       .token = c.token,
                       .seed = core::DeriveSeed(seq.seed, 1000 + t)};
    if (seq.method->class_word_init) request.adapter.config.token_initializer = c.class_word;
    request.images = c.train_images;
    request.captions = c.train_captions;
    request.training = seq.method->training;
    const auto start = Clock::now();
    STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingResult trained,
                             core::TrainConcept(model, state, request));
    STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(trained.artifact, model, state));
    reading.train_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    ++reading.concepts_trained;
    STAMINA_ASSIGN_OR_RETURN(std::string bytes, core::SerializeAdapterArtifact(trained.artifact));
    STAMINA_RETURN_IF_ERROR(core::WriteFile(path, bytes));
    Log(absl::StrFormat("%s: task %d/%zu trained (loss %.4f, %.0f s so far)", reading.label, t + 1,
                        seq.concepts->size(), trained.final_loss, reading.train_seconds));
  }
  return absl::OkStatus();
}

absl::Status ReadAll(core::DiffusionModel& model, const ConceptScorer& scorer, int concepts,
                     ModelReading& reading) {
  for (int i = 0; i < concepts; ++i) {
    std::vector<core::Image> samples;
    STAMINA_ASSIGN_OR_RETURN(ConceptScore score, scorer.Score(model, i, &samples));
    reading.scores.push_back(score);
    reading.samples.push_back(samples.front());
  }
  Log(absl::StrFormat("%s: read every concept", reading.label));
  return absl::OkStatus();
}

// Means over every concept but `skip`.
double MeanOthers(const ModelReading& r, int skip, double ConceptScore::*field) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < r.scores.size(); ++i) {
    if (static_cast<int>(i) == skip) continue;
    sum += r.scores[i].*field;
    ++n;
  }
  return n == 0 ? 0 : sum / n;
}

absl::Status WriteReport(const std::string& out, const std::string& machine,
                         const std::string& command, const std::vector<BenchConcept>& concepts,
                         int erased, const std::vector<ModelReading>& readings) {
  const ModelReading& unerased = readings[0];
  const ModelReading& replay = readings[1];
  const ModelReading& drop = readings[2];
  const ModelReading& base = readings[3];
  const int n = static_cast<int>(concepts.size());
  const double chance = 1.0 / n;
  const double erased_replay = replay.scores[erased].identity;
  const double an_unerased = MeanOthers(unerased, erased, &ConceptScore::attribute);
  const double an_replay = MeanOthers(replay, erased, &ConceptScore::attribute);
  const double an_drop = MeanOthers(drop, erased, &ConceptScore::attribute);
  const bool identity_met = erased_replay <= 3 * chance;
  const bool an_met = std::abs(an_replay - an_unerased) <= 0.03;

  nlohmann::json json = {{"machine", machine},
                         {"command_line", command},
                         {"concepts", n},
                         {"erased", erased + 1},
                         {"erased_token", concepts[erased].token},
                         {"identity_chance", chance},
                         {"targets",
                          {{"erased_identity_max", 3 * chance},
                           {"erased_identity_replay", erased_replay},
                           {"erased_identity_met", identity_met},
                           {"others_a_n_unerased", an_unerased},
                           {"others_a_n_replay", an_replay},
                           {"others_a_n_drop", an_drop},
                           {"others_a_n_tolerance", 0.03},
                           {"others_a_n_met", an_met}}}};
  for (const ModelReading& r : readings) {
    nlohmann::json scores = nlohmann::json::array();
    for (const ConceptScore& s : r.scores) {
      scores.push_back({{"attribute", s.attribute},
                        {"identity", s.identity},
                        {"reads", s.reads},
                        {"exact", s.exact},
                        {"mmd", s.mmd}});
    }
    json["models"].push_back({{"label", r.label},
                              {"scores", scores},
                              {"train_seconds", r.train_seconds},
                              {"concepts_trained", r.concepts_trained}});
  }
  STAMINA_RETURN_IF_ERROR(core::WriteFile(out + "/erasure.json", json.dump(2)));

  std::string md = absl::StrFormat(
      "# Proof of erasure: %d %s, erase %s (position %d)\n\nMachine: %s.\n\nCommand: `%s`\n\n"
      "Each concept is read by the attribute oracle from %zu samples of \"a photo of <token>\" "
      "on four models: **unerased** (all %d learned in order), **replay** (EraseConcept's "
      "default: the model after the first %d, then the %d later concepts trained again, each "
      "with its own seed), **drop** (the model after the first %d) and **base** (never taught "
      "anything: the untaught level). identity = fraction of samples the oracle matches to "
      "the concept among all %d (chance %.3f); attribute = mean fraction of its attributes "
      "read (A).\n\n",
      n, n == 1 ? "concept" : "concepts", concepts[erased].token, erased + 1, machine, command,
      unerased.samples.empty() ? 0 : static_cast<size_t>(absl::GetFlag(FLAGS_samples)), n, erased,
      n - erased - 1, erased, n, chance);
  absl::StrAppend(&md,
                  "| concept | identity unerased | replay | drop | base | attribute "
                  "unerased | replay | drop | base |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&md, absl::StrFormat("| %s%s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | "
                                         "%.3f | %.3f |\n",
                                         concepts[i].token, i == erased ? " (erased)" : "",
                                         unerased.scores[i].identity, replay.scores[i].identity,
                                         drop.scores[i].identity, base.scores[i].identity,
                                         unerased.scores[i].attribute, replay.scores[i].attribute,
                                         drop.scores[i].attribute, base.scores[i].attribute));
  }
  absl::StrAppend(
      &md,
      absl::StrFormat(
          "\n**Erased concept** %s, identity accuracy: unerased %.3f → replay %.3f (drop %.3f, "
          "base %.3f; target ≤ 3 × chance = %.3f: **%s**).\n\n"
          "**The other %d concepts**, A (attribute): unerased %.3f, replay %.3f (Δ %+.3f; target "
          "|Δ| ≤ 0.03: **%s**), drop %.3f (Δ %+.3f: the later concepts are gone until trained "
          "again). Identity: unerased %.3f, replay %.3f, drop %.3f.\n\n"
          "**Cost**: the unerased sequence trained %d concepts in %.0f s; the replay retrained "
          "%d in %.0f s (reused artifacts count 0 s).\n\n"
          "identity.png: identity accuracy per concept, one line per model (unerased = blue, "
          "replay = orange, drop = green, base = red). samples.png: rows = unerased, replay, "
          "drop, base; columns = concepts.\n",
          concepts[erased].token, unerased.scores[erased].identity, erased_replay,
          drop.scores[erased].identity, base.scores[erased].identity, 3 * chance,
          identity_met ? "met" : "not met", n - 1, an_unerased, an_replay, an_replay - an_unerased,
          an_met ? "met" : "not met", an_drop, an_drop - an_unerased,
          MeanOthers(unerased, erased, &ConceptScore::identity),
          MeanOthers(replay, erased, &ConceptScore::identity),
          MeanOthers(drop, erased, &ConceptScore::identity), unerased.concepts_trained,
          unerased.train_seconds, replay.concepts_trained, replay.train_seconds));
  STAMINA_RETURN_IF_ERROR(core::WriteFile(out + "/erasure.md", md));
  std::printf("%s", md.c_str());

  std::vector<PlotSeries> series;
  for (size_t m = 0; m < readings.size(); ++m) {
    PlotSeries s{.name = readings[m].label, .color = SeriesColor(static_cast<int>(m))};
    for (const ConceptScore& score : readings[m].scores) s.y.push_back(score.identity);
    series.push_back(std::move(s));
  }
  STAMINA_RETURN_IF_ERROR(
      core::WritePng(LinePlot(series, 0, 1,
                              {.title = absl::StrCat("identity accuracy; ", concepts[erased].token,
                                                     " (position ", erased + 1, ") erased"),
                               .x_title = "position in the sequence",
                               .y_title = "identity accuracy"}),
                     out + "/identity.png"));
  std::vector<core::Image> grid;
  for (const ModelReading& r : readings)
    grid.insert(grid.end(), r.samples.begin(), r.samples.end());
  return core::WriteGridPng(grid, static_cast<int>(readings.size()), n, out + "/samples.png");
}

int Run() {
  const std::string out = stamina::WorkspacePath(absl::GetFlag(FLAGS_out));
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  auto runtime = core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  const int n = absl::GetFlag(FLAGS_concepts);
  const int erased = absl::GetFlag(FLAGS_erase) - 1;
  if (!runtime.ok() || erased < 0 || erased >= n) {
    std::fprintf(stderr, "bad --threads, --erase or --concepts\n");
    return 2;
  }
  MethodDefaults defaults;
  defaults.steps = absl::GetFlag(FLAGS_steps);
  auto method = MethodFromName(absl::GetFlag(FLAGS_method), defaults);
  std::string oracle_path = stamina::WorkspacePath(absl::GetFlag(FLAGS_oracle));
  if (oracle_path.empty()) oracle_path = OracleCachePath(absl::GetFlag(FLAGS_oracle_steps));
  auto oracle = LoadOrTrainOracle(oracle_path, absl::GetFlag(FLAGS_oracle_steps));
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  auto concepts = BuildConceptSequence(absl::GetFlag(FLAGS_family), n, seed);
  if (!method.ok() || !oracle.ok() || !concepts.ok()) {
    std::fprintf(stderr, "%s %s %s\n", method.status().ToString().c_str(),
                 oracle.status().ToString().c_str(), concepts.status().ToString().c_str());
    return 1;
  }
  auto scorer =
      ConceptScorer::Create(oracle->get(), &*concepts,
                            {.count = absl::GetFlag(FLAGS_samples),
                             .steps = absl::GetFlag(FLAGS_sample_steps),
                             .guidance = static_cast<float>(absl::GetFlag(FLAGS_guidance)),
                             .seed = 1234});
  if (!scorer.ok()) {
    std::fprintf(stderr, "%s\n", scorer.status().ToString().c_str());
    return 1;
  }
  const std::string base_dir = stamina::WorkspacePath(absl::GetFlag(FLAGS_base_model));
  const Sequence seq{.method = &*method, .concepts = &*concepts, .seed = seed};
  const nlohmann::json key = {{"method", absl::GetFlag(FLAGS_method)},
                              {"config", core::AdapterConfigToJson(method->config)},
                              {"steps", method->training.steps},
                              {"family", absl::GetFlag(FLAGS_family)},
                              {"concepts", n},
                              {"seed", seed}};
  std::vector<ModelReading> readings(4);
  readings[0].label = "unerased";
  readings[1].label = "replay";
  readings[2].label = "drop";
  readings[3].label = "base";
  auto build = [&](int which, const std::vector<int>& reused, const std::vector<int>& trained,
                   const std::string& dir) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel model, core::LoadDiffusionModel(base_dir));
    STAMINA_ASSIGN_OR_RETURN(core::ContinualState state,
                             core::ContinualState::Create(model.unet, method->config.targets));
    ModelReading& reading = readings[which];
    // The versions kept by an erasure: the unerased run's own artifacts.
    STAMINA_RETURN_IF_ERROR(
        TrainTasks(seq, reused, key, out + "/progress/full", model, state, reading));
    reading.train_seconds = 0;
    reading.concepts_trained = 0;
    if (!trained.empty()) {
      nlohmann::json replay_key = key;
      replay_key["erase"] = erased + 1;
      STAMINA_RETURN_IF_ERROR(TrainTasks(seq, trained, dir.empty() ? key : replay_key,
                                         dir.empty() ? out + "/progress/full" : dir, model, state,
                                         reading));
    }
    return ReadAll(model, *scorer, n, reading);
  };
  std::vector<int> all, before, after;
  for (int t = 0; t < n; ++t) {
    all.push_back(t);
    if (t < erased) before.push_back(t);
    if (t > erased) after.push_back(t);
  }
  for (absl::Status status :
       {build(0, {}, all, ""),
        build(1, before, after, absl::StrCat(out, "/progress/replay-", erased + 1)),
        build(2, before, {}, ""), build(3, {}, {}, "")}) {
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
  }
  absl::Status written =
      WriteReport(out, MachineDescription(*runtime), CommandLine(), *concepts, erased, readings);
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  for (int i = 1; i < argc; ++i) {
    stamina::bench::CommandLine() += std::string(" ") + argv[i];
  }
  return stamina::bench::Run();
}
