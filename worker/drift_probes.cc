#include "worker/drift_probes.h"

#include <algorithm>
#include <deque>

namespace stamina::worker {

DriftPlan PlanDrift(const DriftCost& cost, double budget, size_t earlier_concepts) {
  const double training = 3.0 * cost.training_steps * cost.batch_size;
  const double per_concept = 2.0 * cost.probe_images * cost.probe_steps;
  DriftPlan plan;
  if (budget <= 0 || training <= 0 || per_concept <= 0) return plan;
  const double affordable = budget * training / per_concept;
  if (affordable < 1) return plan;
  plan.reference = true;
  plan.earlier =
      static_cast<int>(std::min<double>(static_cast<double>(earlier_concepts), affordable - 1));
  return plan;
}

std::vector<size_t> DriftRotation(size_t earlier, int count) {
  // A round robin over a growing list, replayed from the lineage's start:
  // each version appends the concept its parent learned at the back of the
  // queue, measures `count` from the front and puts them back at the end.
  std::deque<size_t> queue;
  std::vector<size_t> picked;
  for (size_t e = 1; e <= earlier; ++e) {
    queue.push_back(e - 1);
    picked.clear();
    const size_t n = std::min(queue.size(), static_cast<size_t>(count));
    while (picked.size() < n) {
      picked.push_back(queue.front());
      queue.pop_front();
    }
    for (size_t i : picked) queue.push_back(i);
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

DriftChoice ChooseDrift(const DriftCost& cost, double budget,
                        const std::vector<bool>& has_reference) {
  std::vector<size_t> measurable;
  for (size_t i = 0; i < has_reference.size(); ++i) {
    if (has_reference[i]) measurable.push_back(i);
  }
  const DriftPlan plan = PlanDrift(cost, budget, measurable.size());
  DriftChoice choice;
  if (!plan.reference) return choice;
  choice.reference = true;
  for (size_t pick : DriftRotation(measurable.size(), plan.earlier)) {
    choice.measured.push_back(measurable[pick]);
  }
  return choice;
}

}  // namespace stamina::worker
