// File: common/adapter_targets.h
//
// The attention projections an adapter may attach to, named as in diffusers
// ("attn2.to_k"): the one vocabulary the API front end validates requests
// against and core/adapters builds adapters from, so that a request the front
// end accepts never fails later in a worker for its targets. Thread-safe.
#ifndef STAMINA_COMMON_ADAPTER_TARGETS_H_
#define STAMINA_COMMON_ADAPTER_TARGETS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina {

// OK when `target` is attn1|attn2 . to_q|to_k|to_v|to_out.0; else
// INVALID_ARGUMENT naming `field` and listing the allowed values.
absl::Status CheckAdapterTarget(absl::string_view target, absl::string_view field);

}  // namespace stamina

#endif  // STAMINA_COMMON_ADAPTER_TARGETS_H_
