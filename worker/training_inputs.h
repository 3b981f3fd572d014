// File: worker/training_inputs.h
//
// Turns a task's stored inputs into what core's trainer consumes: each
// uploaded image (JPEG, PNG or WebP, stored as uploaded) decoded to RGB with
// EXIF orientation applied, centre-cropped to a square and resized with an
// area filter to the model's resolution; and one caption per image (the
// image's own caption, else the concept's caption templates in turn, else
// "a photo of {}"), with "{}" replaced by the concept token.
//
// Torch-free. Thread-safe: pure functions.
#ifndef STAMINA_WORKER_TRAINING_INPUTS_H_
#define STAMINA_WORKER_TRAINING_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/image.h"
#include "worker/job_source.h"

namespace stamina::worker {

// INVALID_ARGUMENT for bytes that do not decode or a side < 1.
absl::StatusOr<core::Image> PrepareTrainingImage(absl::string_view bytes, int side);

// Centre crop to a square, then an area-average (box) resize to side x side
// (bilinear when enlarging).
core::Image CropAndResize(const core::Image& image, int side);

// One caption per task image.
std::vector<std::string> TrainingCaptions(const TrainingTask& task);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TRAINING_INPUTS_H_
