#include "core/io/state_dict.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

constexpr size_t kKeysShown = 5;

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// "3 missing keys (a, b, c)" with at most kKeysShown names.
std::string Summarize(absl::string_view what,
                      const std::vector<std::string>& keys) {
  std::vector<std::string> shown(
      keys.begin(), keys.begin() + std::min(keys.size(), kKeysShown));
  std::string out =
      absl::StrCat(keys.size(), " ", what, " (", absl::StrJoin(shown, ", "));
  if (keys.size() > kKeysShown) absl::StrAppend(&out, ", ...");
  return out + ")";
}

}  // namespace

std::set<std::string> OptionalCLIPTextModelKeys() {
  return {"text_model.embeddings.position_ids"};
}

absl::StatusOr<LoadReport> LoadStateDict(
    torch::nn::Module& module,
    const std::map<std::string, torch::Tensor>& tensors,
    const LoadOptions& options) {
  std::map<std::string, torch::Tensor> targets = StateDict(module);
  LoadReport report;
  std::vector<std::string> missing_errors;
  std::vector<std::string> unexpected_errors;
  for (const auto& [key, target] : targets) {
    auto it = tensors.find(key);
    if (it == tensors.end()) {
      report.missing.push_back(key);
      if (!options.allow_missing && options.optional_keys.count(key) == 0) {
        missing_errors.push_back(key);
      }
      continue;
    }
    if (!it->second.defined() || it->second.sizes() != target.sizes()) {
      report.mismatched.push_back({key, target.sizes().vec(),
                                   it->second.defined()
                                       ? it->second.sizes().vec()
                                       : std::vector<int64_t>{}});
      continue;
    }
    report.loaded.push_back(key);
  }
  for (const auto& [key, tensor] : tensors) {
    if (targets.count(key) > 0) continue;
    report.unexpected.push_back(key);
    if (!options.allow_unexpected && options.optional_keys.count(key) == 0) {
      unexpected_errors.push_back(key);
    }
  }

  std::vector<std::string> problems;
  if (!report.mismatched.empty()) {
    std::vector<std::string> shown;
    for (const ShapeMismatch& m : report.mismatched) {
      if (shown.size() == kKeysShown) {
        shown.push_back("...");
        break;
      }
      shown.push_back(absl::StrCat(m.key, ": expected ",
                                   ShapeString(m.expected), ", got ",
                                   ShapeString(m.got)));
    }
    problems.push_back(absl::StrCat(report.mismatched.size(),
                                    " shape mismatches (",
                                    absl::StrJoin(shown, "; "), ")"));
  }
  if (!missing_errors.empty()) {
    problems.push_back(Summarize("missing keys", missing_errors));
  }
  if (!unexpected_errors.empty()) {
    problems.push_back(Summarize("unexpected keys", unexpected_errors));
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "state dict does not fit the module: ", absl::StrJoin(problems, "; "),
        " (", report.loaded.size(), " of ", targets.size(),
        " keys matched; nothing was loaded)"));
  }

  absl::Status copied = RunTorchVoid([&] {
    torch::NoGradGuard no_grad;
    for (const std::string& key : report.loaded) {
      targets.at(key).copy_(tensors.at(key));
    }
  });
  if (!copied.ok()) return copied;
  return report;
}

std::map<std::string, torch::Tensor> StateDict(
    const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    if (item.value().defined()) state[item.key()] = item.value().detach();
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    if (item.value().defined()) state[item.key()] = item.value().detach();
  }
  return state;
}

}  // namespace stamina::core
