// File: worker/drift_probes.h
//
// How much of the forgetting metric one training job measures (issue #17).
// Drawing drift samples costs sampling compute, so a job spends at most
// `budget` of its training compute on them, counted in UNet image passes:
//   training    steps × batch × 3 (a forward and a backward pass);
//   drift       images × DDIM steps × 2 per concept (guided: two passes).
// The new concept's reference samples come first; the rest of the budget
// measures earlier concepts, in a rotation over versions so that every
// earlier concept is measured every few versions however long the lineage.
// Counting passes instead of seconds keeps the choice a pure function of the
// job: the same job measures the same concepts on every machine.
//
// Thread-safe: pure functions.
#ifndef STAMINA_WORKER_DRIFT_PROBES_H_
#define STAMINA_WORKER_DRIFT_PROBES_H_

#include <cstddef>
#include <vector>

namespace stamina::worker {

struct DriftCost {
  int training_steps = 0;
  int batch_size = 0;
  int probe_images = 0;  // per concept
  int probe_steps = 0;   // DDIM steps per image
};

// Whether the new concept's reference fits `budget` (a fraction of the
// training passes), and how many earlier concepts fit beside it.
struct DriftPlan {
  bool reference = false;
  int earlier = 0;
};
DriftPlan PlanDrift(const DriftCost& cost, double budget, size_t earlier_concepts);

// Which `count` of `earlier` concepts (indices in lineage order) the version
// at lineage position `earlier` + 1 measures, if every version measured
// `count`: a round robin over the growing lineage (each new concept joins
// the back of the queue), so no concept waits more than about
// earlier / count versions. Ascending, distinct, min(count, earlier) of them.
std::vector<size_t> DriftRotation(size_t earlier, int count);

// The whole choice of one job, as the worker and the benchmark make it:
// whether to draw the new concept's reference, and which earlier concepts
// (indices into `has_reference`, the lineage in order; those without a
// reference cannot be measured) to measure: PlanDrift, then DriftRotation
// over the measurable ones. Ascending.
struct DriftChoice {
  bool reference = false;
  std::vector<size_t> measured;
};
DriftChoice ChooseDrift(const DriftCost& cost, double budget,
                        const std::vector<bool>& has_reference);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_DRIFT_PROBES_H_
