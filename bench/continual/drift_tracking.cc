#include "bench/continual/drift_tracking.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "core/adapters/concept_drift.h"
#include "worker/drift_probes.h"

namespace stamina::bench {

DriftTracker::DriftTracker(int training_steps, int batch_size, double budget)
    : training_steps_(training_steps), batch_size_(batch_size), budget_(budget) {}

void DriftTracker::Restore(int t, std::optional<core::DriftReference> reference) {
  if (static_cast<int>(references_.size()) <= t) references_.resize(t + 1);
  references_[t] = std::move(reference);
}

absl::Status DriftTracker::AfterTask(core::DiffusionModel& model, int t, const std::string& token,
                                     const std::string& caption_template,
                                     core::AdapterArtifact& artifact, bool full_row) {
  const auto start = std::chrono::steady_clock::now();
  const core::DriftProbeSettings settings;
  std::vector<bool> has_reference;
  for (int i = 0; i < t && i < static_cast<int>(references_.size()); ++i) {
    has_reference.push_back(references_[i].has_value());
  }
  const worker::DriftChoice choice =
      worker::ChooseDrift({.training_steps = training_steps_,
                           .batch_size = batch_size_,
                           .probe_images = 2 * settings.images_per_prompt,
                           .probe_steps = settings.steps},
                          budget_, has_reference);
  if (choice.reference) {
    STAMINA_ASSIGN_OR_RETURN(
        artifact.drift_reference,
        core::SampleDriftReference(model, core::DriftPrompts(token, {caption_template}), settings));
    for (size_t index : choice.measured) {
      const int i = static_cast<int>(index);
      STAMINA_ASSIGN_OR_RETURN(results_.service[t][i], core::MeasureDrift(model, *references_[i]));
      results_.full[t][i] = results_.service[t][i];
    }
  }
  results_.seconds.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  Restore(t, artifact.drift_reference);
  if (full_row) {
    for (int i = 0; i < static_cast<int>(has_reference.size()); ++i) {
      if (!has_reference[i] || results_.full[t].count(i) != 0) continue;
      STAMINA_ASSIGN_OR_RETURN(results_.full[t][i], core::MeasureDrift(model, *references_[i]));
    }
  }
  return absl::OkStatus();
}

double DriftForgettingCorrelation(const ScoreMatrix& drift, const ScoreMatrix& attribute,
                                  int* cells) {
  std::vector<double> x, y;
  for (const auto& [t, row] : drift) {
    const auto at_t = attribute.find(t);
    if (at_t == attribute.end()) continue;
    for (const auto& [i, d] : row) {
      const auto learned = attribute.find(i);
      if (i >= t || learned == attribute.end() || !learned->second.count(i) ||
          !at_t->second.count(i)) {
        continue;
      }
      x.push_back(d);
      y.push_back(learned->second.at(i) - at_t->second.at(i));
    }
  }
  if (cells != nullptr) *cells = static_cast<int>(x.size());
  if (x.size() < 3) return 0;
  double mx = 0, my = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    mx += x[k] / x.size();
    my += y[k] / y.size();
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

}  // namespace stamina::bench
