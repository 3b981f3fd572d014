// libFuzzer target for the diffusers config readers (not run in CI; tagged
// manual). The first input byte picks the file kind, the rest is the file's
// text:
//   0 model_index.json   1 unet/config.json      2 vae/config.json
//   3 text_encoder/config.json                    4 scheduler_config.json
//   5 tokenizer_config.json
//   6 added tokens: tokenizer_config.json, a NUL byte, added_tokens.json
// The documented contract (core/pipelines/diffusers_config.h): any text gives
// OK or INVALID_ARGUMENT (model_index.json may also say UNIMPLEMENTED for a
// pipeline other than StableDiffusionPipeline), never a crash or an
// exception, and an OK config is one the networks and schedulers accept: it
// passes their own validation, and the scheduler it names can be built.
// Any violation traps, so libFuzzer records the input as a crash.
//
// Built and run by tools/fuzz.sh (clang++, no Bazel); seeds in
// testdata/fuzz/diffusers_config_fuzz/ (the configs of
// testdata/diffusers-tiny-sd, each behind its kind byte).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/pipelines/diffusers_config.h"

namespace {

namespace core = ::stamina::core;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// A parser's answer for text it refused: INVALID_ARGUMENT, or one of
// `also_allowed` (OK is checked by the caller).
template <typename T>
bool Refused(const absl::StatusOr<T>& result,
             absl::StatusCode also_allowed = absl::StatusCode::kInvalidArgument) {
  if (result.ok()) return false;
  const absl::StatusCode code = result.status().code();
  Check(code == absl::StatusCode::kInvalidArgument || code == also_allowed);
  return true;
}

void FuzzModelIndex(absl::string_view text) {
  const auto index = core::ParseDiffusersModelIndex(text, "model_index.json");
  if (Refused(index, absl::StatusCode::kUnimplemented)) return;
  Check(index->pipeline_class == "StableDiffusionPipeline");
  Check(!index->scheduler_class.empty());
}

void FuzzUNet(absl::string_view text) {
  const auto config = core::ParseDiffusersUNetConfig(text, "unet/config.json");
  if (Refused(config)) return;
  Check(config->sample_size > 0);
  Check(core::ValidateUNet2DConditionModelConfig(*config).ok());
}

void FuzzVae(absl::string_view text) {
  const auto config = core::ParseDiffusersVaeConfig(text, "vae/config.json");
  if (Refused(config)) return;
  Check(config->scaling_factor > 0);
  Check(core::ValidateAutoencoderKLConfig(*config).ok());
}

void FuzzTextEncoder(absl::string_view text) {
  const auto config =
      core::ParseTransformersCLIPTextConfig(text, "text_encoder/config.json");
  if (Refused(config)) return;
  Check(core::ValidateCLIPTextConfig(*config).ok());
}

void FuzzScheduler(absl::string_view text) {
  const auto config = core::ParseDiffusersSchedulerConfig(
      text, "scheduler/scheduler_config.json");
  if (Refused(config)) return;
  Check(core::DDIMScheduler::Create(config->sampling).ok());
  // The training half is the same schedule; DDPM trains epsilon only, so a
  // v_prediction checkpoint reads fine and is refused where training starts.
  const core::DDPMSchedulerConfig& t = config->training;
  const core::DDIMSchedulerConfig& s = config->sampling;
  Check(t.num_train_timesteps == s.num_train_timesteps &&
        t.beta_start == s.beta_start && t.beta_end == s.beta_end &&
        t.beta_schedule == s.beta_schedule &&
        t.prediction_type == s.prediction_type);
  const auto ddpm = core::DDPMScheduler::Create(t);
  Check(ddpm.ok() == (t.prediction_type == "epsilon"));
  if (!ddpm.ok()) {
    Check(ddpm.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

void FuzzTokenizer(absl::string_view text) {
  const auto options =
      core::ParseCLIPTokenizerConfig(text, "tokenizer/tokenizer_config.json");
  if (Refused(options)) return;
  Check(options->max_length >= 2 && options->max_length <= 4096);
}

void FuzzAddedTokens(absl::string_view text) {
  const size_t split = text.find('\0');
  const absl::string_view tokenizer_config = text.substr(0, split);
  const absl::string_view added_tokens = split == absl::string_view::npos
                                             ? absl::string_view()
                                             : text.substr(split + 1);
  const auto tokens = core::ParseAddedTokens(tokenizer_config, added_tokens);
  if (Refused(tokens)) return;
  for (const auto& [id, token] : *tokens) Check(id >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  switch (data[0] % 7) {
    case 0:
      FuzzModelIndex(text);
      break;
    case 1:
      FuzzUNet(text);
      break;
    case 2:
      FuzzVae(text);
      break;
    case 3:
      FuzzTextEncoder(text);
      break;
    case 4:
      FuzzScheduler(text);
      break;
    case 5:
      FuzzTokenizer(text);
      break;
    default:
      FuzzAddedTokens(text);
      break;
  }
  return 0;
}
