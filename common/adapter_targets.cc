#include "common/adapter_targets.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace stamina {

absl::Status CheckAdapterTarget(absl::string_view target, absl::string_view field) {
  for (absl::string_view attention : {"attn1.", "attn2."}) {
    for (absl::string_view projection : {"to_q", "to_k", "to_v", "to_out.0"}) {
      if (target == absl::StrCat(attention, projection)) return absl::OkStatus();
    }
  }
  // Bounded echo: the value may be anything a client sent.
  const absl::string_view shown = target.substr(0, 64);
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", absl::CHexEscape(shown), target.size() > 64 ? "…" : "",
                   "\" is not one of attn1|attn2 . to_q|to_k|to_v|to_out.0"));
}

}  // namespace stamina
