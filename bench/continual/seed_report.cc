#include "bench/continual/seed_report.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/continual/line_plot.h"
#include "bench/continual/seed_statistics.h"

namespace stamina::bench {
namespace {

double MeanOf(const std::vector<double>& v, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += v[i];
  return end > begin ? sum / (end - begin) : 0;
}

uint64_t SeedOfCommandLine(const std::string& command_line) {
  const size_t at = command_line.find("--seed=");
  if (at == std::string::npos) return 0;
  const size_t begin = at + 7;
  const size_t end = command_line.find(' ', begin);
  uint64_t seed = 0;
  return absl::SimpleAtoi(command_line.substr(begin, end - begin), &seed) ? seed : 0;
}

// One number of one method across the runs that hold it, in run order.
template <typename Field>
std::vector<double> Across(const std::vector<SeedRun>& runs, const std::string& label,
                           Field field) {
  std::vector<double> values;
  for (const SeedRun& run : runs) {
    const auto m = run.methods.find(label);
    if (m != run.methods.end()) values.push_back(field(m->second));
  }
  return values;
}

// The same number of two methods over the runs that hold both.
template <typename Field>
std::pair<std::vector<double>, std::vector<double>> Paired(const std::vector<SeedRun>& runs,
                                                           const std::string& a,
                                                           const std::string& b, Field field) {
  std::pair<std::vector<double>, std::vector<double>> values;
  for (const SeedRun& run : runs) {
    const auto ma = run.methods.find(a);
    const auto mb = run.methods.find(b);
    if (ma == run.methods.end() || mb == run.methods.end()) continue;
    values.first.push_back(field(ma->second));
    values.second.push_back(field(mb->second));
  }
  return values;
}

// The first run's numbers of `label` (it must be in one).
const SeedMethodNumbers& AnyOf(const std::vector<SeedRun>& runs, const std::string& label) {
  for (const SeedRun& run : runs) {
    const auto m = run.methods.find(label);
    if (m != run.methods.end()) return m->second;
  }
  static const SeedMethodNumbers* none = new SeedMethodNumbers;
  return *none;
}

struct Metric {
  std::string name;
  bool higher_is_better;
  double (*get)(const SeedMethodNumbers&);
};

const std::vector<Metric>& Metrics() {
  static const auto* metrics = new std::vector<Metric>{
      {"A_N", true, [](const SeedMethodNumbers& m) { return m.final_accuracy; }},
      {"F_final", false, [](const SeedMethodNumbers& m) { return m.forgetting_final; }},
      {"F_inc", false, [](const SeedMethodNumbers& m) { return m.forgetting_incremental; }},
      {"identity", true, [](const SeedMethodNumbers& m) { return m.final_identity; }},
      {"reads", true, [](const SeedMethodNumbers& m) { return m.final_reads; }},
      {"P_t slope /10", true, [](const SeedMethodNumbers& m) { return m.plasticity_slope_per_10; }},
      {"P_t first", true, [](const SeedMethodNumbers& m) { return m.PlasticityFirst(); }},
      {"P_t last", true, [](const SeedMethodNumbers& m) { return m.PlasticityLast(); }},
      {"P_t last/first", true, [](const SeedMethodNumbers& m) { return m.PlasticityRetention(); }},
  };
  return *metrics;
}

std::string Met(bool met) { return met ? "**met**" : "**missed**"; }
constexpr char kNoInterval[] = "not decided (one seed: no interval)";

std::vector<double> MovingAverage(const std::vector<double>& y, int half) {
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    const size_t lo = i >= static_cast<size_t>(half) ? i - half : 0;
    const size_t hi = std::min(y.size(), i + half + 1);
    out[i] = MeanOf(y, lo, hi);
  }
  return out;
}

}  // namespace

size_t PlasticityWindow(size_t tasks) { return tasks >= 20 ? 10 : std::max<size_t>(1, tasks / 2); }

double SeedMethodNumbers::PlasticityFirst() const {
  return MeanOf(plasticity, 0, std::min(PlasticityWindow(plasticity.size()), plasticity.size()));
}
double SeedMethodNumbers::PlasticityLast() const {
  const size_t n = plasticity.size();
  return MeanOf(plasticity, n - std::min(PlasticityWindow(n), n), n);
}
double SeedMethodNumbers::PlasticityRetention() const {
  const double first = PlasticityFirst();
  return first > 0 ? PlasticityLast() / first : 0;
}

absl::StatusOr<SeedRun> ParseSeedRun(const std::string& json_text, const std::string& directory) {
  const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("methods")) {
    return absl::InvalidArgumentError(
        absl::StrCat(directory, ": not a continual.json (no \"methods\")"));
  }
  SeedRun run;
  run.directory = directory;
  run.command_line = json.value("command_line", "");
  run.machine = json.value("machine", "");
  run.family = json.value("family", "");
  run.concepts = json.value("concepts", 0);
  run.seed =
      json.contains("seed") ? json["seed"].get<uint64_t>() : SeedOfCommandLine(run.command_line);
  for (const nlohmann::json& m : json["methods"]) {
    SeedMethodNumbers numbers;
    numbers.steps_per_concept = m.value("steps_per_concept", 0);
    numbers.final_accuracy = m.value("A_N", 0.0);
    numbers.forgetting_final = m.value("F_final", 0.0);
    numbers.forgetting_incremental = m.value("F_incremental", 0.0);
    numbers.final_identity = m.value("final_identity", 0.0);
    numbers.final_reads = m.value("final_reads", 0.0);
    numbers.plasticity_slope_per_10 = m.value("plasticity_slope_per_10", 0.0);
    numbers.plasticity = m.value("plasticity", std::vector<double>{});
    numbers.folded_over_base = m.value("folded_over_base", 0.0);
    numbers.train_seconds = m.value("train_seconds", 0.0);
    numbers.eval_seconds = m.value("eval_seconds", 0.0);
    numbers.drift_measured = m.contains("drift_seconds") && !m["drift_seconds"].empty();
    numbers.drift_overhead = m.value("drift_overhead", 0.0);
    numbers.drift_correlation = m.value("drift_forgetting_correlation", 0.0);
    numbers.drift_final_row_mean = m.value("drift_final_row_mean", 0.0);
    run.methods[m.value("label", "")] = std::move(numbers);
  }
  return run;
}

absl::StatusOr<std::vector<SeedRun>> MergeSeedRuns(std::vector<SeedRun> runs) {
  std::vector<SeedRun> merged;
  for (SeedRun& run : runs) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const SeedRun& m) { return m.seed == run.seed; });
    if (same == merged.end()) {
      merged.push_back(std::move(run));
      continue;
    }
    if (same->family != run.family || same->concepts != run.concepts) {
      return absl::InvalidArgumentError(absl::StrCat("runs: ", run.directory, " and ",
                                                     same->directory, " have seed ", run.seed,
                                                     " but differ in family or concept count"));
    }
    for (auto& [label, numbers] : run.methods) {
      if (!same->methods.emplace(label, std::move(numbers)).second) {
        return absl::InvalidArgumentError(absl::StrCat("runs: ", run.directory, " and ",
                                                       same->directory, " both hold seed ",
                                                       run.seed, "'s \"", label, "\""));
      }
    }
    same->directory += "+" + run.directory;
    same->command_line += "; " + run.command_line;
  }
  return merged;
}

absl::StatusOr<SeedReport> BuildSeedReport(const std::vector<SeedRun>& runs,
                                           const SeedReportOptions& options) {
  if (runs.empty()) return absl::InvalidArgumentError("runs: none given");
  std::vector<std::string> labels = {options.ours};
  labels.insert(labels.end(), options.baselines.begin(), options.baselines.end());
  std::set<uint64_t> seeds;
  for (const SeedRun& run : runs) {
    if (run.family != runs[0].family || run.concepts != runs[0].concepts) {
      return absl::InvalidArgumentError(
          absl::StrFormat("runs: %s has %d %s concepts, %s has %d %s", run.directory, run.concepts,
                          run.family, runs[0].directory, runs[0].concepts, runs[0].family));
    }
    if (!seeds.insert(run.seed).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs: seed ", run.seed, " appears twice (", run.directory, ")"));
    }
  }
  for (const std::string& label : labels) {
    if (Across(runs, label, [](const auto& m) { return m.final_accuracy; }).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("runs: none has method \"", label, "\""));
    }
  }
  SeedReport report;
  nlohmann::json& json = report.json;
  json["family"] = runs[0].family;
  json["concepts"] = runs[0].concepts;
  json["ours"] = options.ours;
  for (const SeedRun& run : runs) {
    json["runs"].push_back({{"seed", run.seed},
                            {"directory", run.directory},
                            {"command_line", run.command_line},
                            {"machine", run.machine}});
  }
  std::string md = absl::StrFormat(
      "# Continual personalization over %d seeds: %d %s concepts\n\n"
      "Each number is the mean over seeds ± the half width of its 95%% Student-t interval "
      "(bench/continual/seed_statistics.h). A seed changes the identities, their renders and "
      "the training noise; every method of a seed saw the same ones. P_t first / last: the mean "
      "P_t of the first / last %d concepts.\n\n| method | seeds | steps/concept |",
      static_cast<int>(runs.size()), runs[0].concepts, runs[0].family,
      static_cast<int>(PlasticityWindow(runs[0].concepts)));
  for (const Metric& metric : Metrics()) md += " " + metric.name + " |";
  md += " train s | eval s |\n|---|---|---|";
  for (size_t i = 0; i < Metrics().size() + 2; ++i) md += "---|";
  md += "\n";
  for (const std::string& label : labels) {
    md += absl::StrFormat(
        "| %s | %d | %d |", label,
        static_cast<int>(
            Across(runs, label, [](const auto& m) { return m.final_accuracy; }).size()),
        AnyOf(runs, label).steps_per_concept);
    for (const Metric& metric : Metrics()) {
      const Interval interval = MeanInterval(Across(runs, label, metric.get));
      md += " " + FormatInterval(interval) + " |";
      json["methods"][label][metric.name] = {{"mean", interval.mean},
                                             {"half_width", interval.half_width},
                                             {"per_seed", Across(runs, label, metric.get)}};
    }
    md += absl::StrFormat(
        " %.0f | %.0f |\n",
        MeanInterval(Across(runs, label, [](const auto& m) { return m.train_seconds; })).mean,
        MeanInterval(Across(runs, label, [](const auto& m) { return m.eval_seconds; })).mean);
  }
  md += absl::StrFormat(
      "\n### %s against each baseline, paired by seed\n\nCells: mean difference (ours − "
      "theirs) ± 95%% interval, and the verdict: better / worse only when the interval "
      "excludes 0.\n\n| baseline |",
      options.ours);
  for (const Metric& metric : Metrics()) md += " " + metric.name + " |";
  md += "\n|---|";
  for (size_t i = 0; i < Metrics().size(); ++i) md += "---|";
  md += "\n";
  for (const std::string& baseline : options.baselines) {
    md += "| " + baseline + " |";
    for (const Metric& metric : Metrics()) {
      const auto [ours, theirs] = Paired(runs, options.ours, baseline, metric.get);
      const PairedComparison c = ComparePaired(ours, theirs, metric.higher_is_better);
      md += absl::StrFormat(" %s, %s |", FormatInterval(c.difference), VerdictName(c.verdict));
      json["paired"][baseline][metric.name] = {{"difference", c.difference.mean},
                                               {"half_width", c.difference.half_width},
                                               {"verdict", VerdictName(c.verdict)}};
    }
    md += "\n";
  }

  // The targets.
  md += "\n### Targets (issue #17)\n\n";
  const auto a_n = [](const SeedMethodNumbers& m) { return m.final_accuracy; };
  const Interval ours_a = MeanInterval(Across(runs, options.ours, a_n));
  for (const std::string& baseline : options.baselines) {
    const Interval theirs = MeanInterval(Across(runs, baseline, a_n));
    const bool decidable = ours_a.count >= 2 && theirs.count >= 2;
    const bool met = decidable && ours_a.low() > theirs.high();
    md += absl::StrFormat("- A_N above %s's with intervals apart: %s vs %s — %s\n", baseline,
                          FormatInterval(ours_a), FormatInterval(theirs),
                          decidable ? Met(met) : kNoInterval);
    json["targets"][absl::StrCat("A_N above ", baseline)] = met;
  }
  const auto clora =
      std::find_if(options.baselines.begin(), options.baselines.end(),
                   [](const std::string& b) { return absl::StartsWith(b, "clora"); });
  if (clora != options.baselines.end()) {
    const auto f_final = [](const SeedMethodNumbers& m) { return m.forgetting_final; };
    const auto [ours, theirs] = Paired(runs, options.ours, *clora, f_final);
    const PairedComparison c = ComparePaired(ours, theirs, false);
    const bool met = c.verdict != Verdict::kOneSeed && c.difference.high() <= 0.02;
    md += absl::StrFormat(
        "- F_final at most %s's + 0.02 (upper end of the paired interval): difference %s — %s\n",
        *clora, FormatInterval(c.difference),
        c.verdict == Verdict::kOneSeed ? kNoInterval : Met(met));
    json["targets"]["F_final within 0.02 of " + *clora] = met;
  }
  const Interval retention = MeanInterval(
      Across(runs, options.ours, [](const auto& m) { return m.PlasticityRetention(); }));
  const int window = static_cast<int>(PlasticityWindow(runs[0].concepts));
  md += absl::StrFormat("- plasticity of the last %d concepts >= 95%% of the first %d: %s — %s\n",
                        window, window, FormatInterval(retention), Met(retention.mean >= 0.95));
  json["targets"]["plasticity retention"] = retention.mean >= 0.95;
  const std::vector<double> cost =
      Across(runs, options.ours, [](const auto& m) { return m.folded_over_base; });
  if (std::all_of(cost.begin(), cost.end(), [](double c) { return c > 0; })) {
    const Interval c = MeanInterval(cost);
    const bool met = c.low() >= 0.97 && c.high() <= 1.03;
    md += absl::StrFormat("- folded sampling cost 1.00 ± 0.03 of the base: %s — %s\n",
                          FormatInterval(c), Met(met));
    json["targets"]["folded sampling cost"] = met;
  } else {
    md += "- folded sampling cost: not measured in these runs (--timing_repeats=0)\n";
  }
  if (clora != options.baselines.end() && !options.budget_runs.empty()) {
    const std::string budget_label =
        options.ours_budget_label.empty() ? options.ours : options.ours_budget_label;
    std::vector<double> budget_a, clora_a;
    int budget_steps = 0;
    for (const SeedRun& budget : options.budget_runs) {
      const auto run = std::find_if(runs.begin(), runs.end(),
                                    [&](const SeedRun& r) { return r.seed == budget.seed; });
      if (run == runs.end() || budget.methods.count(budget_label) == 0 ||
          run->methods.count(*clora) == 0) {
        continue;
      }
      budget_steps = budget.methods.at(budget_label).steps_per_concept;
      budget_a.push_back(budget.methods.at(budget_label).final_accuracy);
      clora_a.push_back(run->methods.at(*clora).final_accuracy);
    }
    const PairedComparison c = ComparePaired(budget_a, clora_a, true);
    const int clora_steps = AnyOf(runs, *clora).steps_per_concept;
    const bool met = !budget_a.empty() && 2 * budget_steps <= clora_steps &&
                     c.difference.mean >= 0 && c.verdict != Verdict::kWorse &&
                     c.verdict != Verdict::kOneSeed;
    md += absl::StrFormat(
        "- %s's A_N with %d steps per concept (%s's: %d) against %s's, paired over %d "
        "seeds: %s, %s — %s\n",
        budget_label, budget_steps, *clora, clora_steps, *clora, static_cast<int>(budget_a.size()),
        FormatInterval(c.difference), VerdictName(c.verdict),
        c.verdict == Verdict::kOneSeed ? kNoInterval : Met(met));
    json["targets"]["C-LoRA's A_N with half the steps"] = met;
  }

  // The forgetting metric, over the seeds that measured it.
  std::string drift_rows;
  for (const std::string& label : labels) {
    std::vector<double> overhead, correlation, final_row;
    for (const SeedRun& run : runs) {
      const auto found = run.methods.find(label);
      if (found == run.methods.end() || !found->second.drift_measured) continue;
      const SeedMethodNumbers& m = found->second;
      overhead.push_back(m.drift_overhead);
      correlation.push_back(m.drift_correlation);
      final_row.push_back(m.drift_final_row_mean);
    }
    if (overhead.empty()) continue;
    drift_rows += absl::StrFormat(
        "| %s | %d | %s | %s | %s |\n", label, static_cast<int>(overhead.size()),
        FormatInterval(MeanInterval(overhead)), FormatInterval(MeanInterval(final_row)),
        FormatInterval(MeanInterval(correlation), 2));
    json["drift"][label] = {{"seeds", overhead.size()},
                            {"overhead", overhead},
                            {"final_row_mean", final_row},
                            {"forgetting_correlation", correlation}};
  }
  if (!drift_rows.empty()) {
    md +=
        "\n### The service's forgetting metric (drift) in these runs\n\n"
        "drift s / train s: what the worker's budget (20% of the training's UNet passes) "
        "cost in wall time; mean drift of every earlier concept at the last task; Pearson r "
        "of the drift with the oracle's forgetting R[i][i] − R[t][i] over the full rows.\n\n"
        "| method | seeds | drift s / train s | mean drift, final row | r with oracle "
        "forgetting |\n|---|---|---|---|---|\n" +
        drift_rows;
  }

  md += "\n### Per seed (A_N)\n\n| seed |";
  for (const std::string& label : labels) md += " " + label + " |";
  md += "\n|---|";
  for (size_t i = 0; i < labels.size(); ++i) md += "---|";
  md += "\n";
  for (const SeedRun& run : runs) {
    md += absl::StrFormat("| %d |", run.seed);
    for (const std::string& label : labels) {
      const auto m = run.methods.find(label);
      md += m == run.methods.end() ? " — |" : absl::StrFormat(" %.3f |", m->second.final_accuracy);
    }
    md += "\n";
  }
  md += "\nRuns (each command reproduces its seed's continual.json):\n\n";
  for (const SeedRun& run : runs) {
    md += absl::StrFormat("- seed %d, `%s`: `%s` (%s)\n", run.seed, run.directory, run.command_line,
                          run.machine);
  }

  std::vector<PlotSeries> series;
  for (size_t m = 0; m < labels.size(); ++m) {
    std::vector<double> mean;
    int seeds = 0;
    for (const SeedRun& run : runs) {
      const auto found = run.methods.find(labels[m]);
      if (found == run.methods.end()) continue;
      const std::vector<double>& p = found->second.plasticity;
      if (mean.empty()) mean.assign(p.size(), 0);
      for (size_t t = 0; t < std::min(p.size(), mean.size()); ++t) mean[t] += p[t];
      ++seeds;
    }
    for (double& v : mean) v /= std::max(seeds, 1);
    series.push_back({labels[m], SeriesColor(static_cast<int>(m)), MovingAverage(mean, 2)});
  }
  report.plasticity_chart =
      LinePlot(series, 0, 1,
               {.title = absl::StrFormat(
                    "P_t, mean over each method's seeds (up to %d), 5-task moving average",
                    static_cast<int>(runs.size())),
                .x_title = "task t",
                .y_title = "attribute score of concept t after learning it"},
               800, 450);
  md += "\nplasticity.png: mean P_t over seeds (5-task moving average) against t;";
  for (size_t m = 0; m < labels.size(); ++m) {
    const core::Rgb c = SeriesColor(static_cast<int>(m));
    md += absl::StrFormat(" %s = rgb(%d,%d,%d);", labels[m], c.r, c.g, c.b);
  }
  md += " y from 0 to 1.\n";
  report.markdown = md;
  return report;
}

}  // namespace stamina::bench
