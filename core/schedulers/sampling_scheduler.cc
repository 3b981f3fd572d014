#include "core/schedulers/sampling_scheduler.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/schedulers/beta_schedule.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

absl::Status CheckStep(size_t k, size_t expected, size_t planned, const torch::Tensor& output,
                       const torch::Tensor& sample) {
  if (planned == 0 || k != expected || k >= planned) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scheduler: step ", k, " out of order (expected ", expected, " of ", planned, ")"));
  }
  if (!output.defined() || !sample.defined() || output.sizes() != sample.sizes()) {
    return absl::InvalidArgumentError("scheduler: model_output and sample must have one shape");
  }
  return absl::OkStatus();
}

// The integer timesteps DDIM plans (descending), which PNDM shares.
absl::StatusOr<std::vector<int64_t>> IntegerTimesteps(const DDIMSchedulerConfig& schedule,
                                                      int64_t n) {
  DDIMSchedulerConfig plain = schedule;
  plain.clip_sample = false;
  STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim, DDIMScheduler::Create(plain));
  STAMINA_RETURN_IF_ERROR(ddim.SetTimesteps(n));
  return ddim.timesteps();
}

// The samplers whose model input is the sample itself and whose initial
// noise has unit variance (DDIM, PNDM).
class UnscaledSampling : public SamplingScheduler {
 public:
  const std::vector<double>& timesteps() const override { return timesteps_; }
  double init_noise_sigma() const override { return 1.0; }
  torch::Tensor ScaleModelInput(const torch::Tensor& sample, size_t) const override {
    return sample;
  }

 protected:
  std::vector<double> timesteps_;
  size_t next_ = 0;  // the next evaluation Step() expects
};

class DdimSampling final : public UnscaledSampling {
 public:
  explicit DdimSampling(DDIMScheduler ddim) : ddim_(std::move(ddim)) {}
  absl::Status SetTimesteps(int64_t n) override {
    STAMINA_RETURN_IF_ERROR(ddim_.SetTimesteps(n));
    timesteps_.assign(ddim_.timesteps().begin(), ddim_.timesteps().end());
    next_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<torch::Tensor> Step(const torch::Tensor& output, size_t k,
                                     const torch::Tensor& sample) override {
    STAMINA_RETURN_IF_ERROR(CheckStep(k, next_, timesteps_.size(), output, sample));
    STAMINA_ASSIGN_OR_RETURN(DDIMStepOutput out,
                             ddim_.Step(output, ddim_.timesteps()[k], sample));
    ++next_;
    return out.prev_sample;
  }

 private:
  DDIMScheduler ddim_;
};

// diffusers' PNDMScheduler.step_plms (skip_prk_steps): linear multistep over
// the last four model outputs, with a second evaluation at the first
// timestep to bootstrap.
class PndmSampling final : public UnscaledSampling {
 public:
  PndmSampling(DDIMSchedulerConfig schedule, std::vector<double> alphas_cumprod)
      : schedule_(std::move(schedule)), alphas_cumprod_(std::move(alphas_cumprod)) {
    final_alpha_cumprod_ = schedule_.set_alpha_to_one ? 1.0 : alphas_cumprod_.front();
  }
  absl::Status SetTimesteps(int64_t n) override {
    STAMINA_ASSIGN_OR_RETURN(std::vector<int64_t> descending,
                             IntegerTimesteps(schedule_, n));
    timesteps_.clear();
    for (size_t i = 0; i < descending.size(); ++i) {
      timesteps_.push_back(static_cast<double>(descending[i]));
      if (i == 1) timesteps_.push_back(static_cast<double>(descending[i]));
    }
    step_ratio_ = schedule_.num_train_timesteps / n;
    ets_.clear();
    current_sample_ = torch::Tensor();
    next_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<torch::Tensor> Step(const torch::Tensor& output, size_t k,
                                     const torch::Tensor& sample_in) override {
    STAMINA_RETURN_IF_ERROR(CheckStep(k, next_, timesteps_.size(), output, sample_in));
    int64_t timestep = static_cast<int64_t>(timesteps_[k]);
    int64_t prev_timestep = timestep - step_ratio_;
    const size_t counter = next_++;
    return RunTorch([&] {
      torch::Tensor sample = sample_in;
      torch::Tensor combined;
      if (counter != 1) {
        if (ets_.size() > 3) ets_.erase(ets_.begin(), ets_.end() - 3);
        ets_.push_back(output);
      } else {
        prev_timestep = timestep;
        timestep = timestep + step_ratio_;
      }
      const size_t n = ets_.size();
      if (n == 1 && counter == 0) {
        combined = output;
        current_sample_ = sample;
      } else if (n == 1 && counter == 1) {
        combined = (output + ets_[0]) / 2;
        sample = current_sample_;
        current_sample_ = torch::Tensor();
      } else if (n == 2) {
        combined = (3 * ets_[1] - ets_[0]) / 2;
      } else if (n == 3) {
        combined = (23 * ets_[2] - 16 * ets_[1] + 5 * ets_[0]) / 12;
      } else {
        combined = (1.0 / 24) * (55 * ets_[3] - 59 * ets_[2] + 37 * ets_[1] - 9 * ets_[0]);
      }
      return PreviousSample(sample, timestep, prev_timestep, combined);
    });
  }

 private:
  // PNDM paper formula (9), as diffusers' _get_prev_sample.
  torch::Tensor PreviousSample(const torch::Tensor& sample, int64_t t, int64_t prev,
                               torch::Tensor output) const {
    const double a_t = alphas_cumprod_[t];
    const double a_prev = prev >= 0 ? alphas_cumprod_[prev] : final_alpha_cumprod_;
    const double b_t = 1 - a_t;
    const double b_prev = 1 - a_prev;
    if (schedule_.prediction_type == "v_prediction") {
      output = std::sqrt(a_t) * output + std::sqrt(b_t) * sample;
    }
    const double sample_coeff = std::sqrt(a_prev / a_t);
    const double denominator = a_t * std::sqrt(b_prev) + std::sqrt(a_t * b_t * a_prev);
    return sample_coeff * sample - ((a_prev - a_t) / denominator) * output;
  }

  const DDIMSchedulerConfig schedule_;
  const std::vector<double> alphas_cumprod_;
  double final_alpha_cumprod_ = 1.0;
  int64_t step_ratio_ = 0;
  std::vector<torch::Tensor> ets_;  // the last model outputs, oldest first
  torch::Tensor current_sample_;
};

// diffusers' EulerDiscreteScheduler with its defaults (linear
// interpolation of sigma over the timesteps, no churn, final sigma 0).
class EulerSampling final : public SamplingScheduler {
 public:
  EulerSampling(DDIMSchedulerConfig schedule, std::vector<float> train_sigmas)
      : schedule_(std::move(schedule)), train_sigmas_(std::move(train_sigmas)) {}
  absl::Status SetTimesteps(int64_t n) override {
    const int64_t total = schedule_.num_train_timesteps;
    timesteps_.clear();
    if (schedule_.timestep_spacing == "linspace") {
      if (n < 1 || n > total) {
        return absl::InvalidArgumentError(
            absl::StrCat("scheduler: num_inference_steps must lie in [1, ", total, "]"));
      }
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = n - 1 - k;
        const double t = n > 1 ? static_cast<double>(i) * (total - 1) / (n - 1) : 0.0;
        timesteps_.push_back(static_cast<float>(t));
      }
    } else {
      STAMINA_ASSIGN_OR_RETURN(std::vector<int64_t> descending,
                               IntegerTimesteps(schedule_, n));
      timesteps_.assign(descending.begin(), descending.end());
    }
    sigmas_.clear();
    for (double t : timesteps_) {
      const int64_t low = std::clamp<int64_t>(static_cast<int64_t>(std::floor(t)), 0, total - 1);
      const int64_t high = std::min<int64_t>(low + 1, total - 1);
      // As numpy.interp: slope * (t - t_low) + sigma_low.
      const double slope = static_cast<double>(train_sigmas_[high]) - train_sigmas_[low];
      sigmas_.push_back(static_cast<float>(slope * (t - static_cast<double>(low)) +
                                           train_sigmas_[low]));
    }
    sigmas_.push_back(0.0f);
    const float max_sigma = *std::max_element(sigmas_.begin(), sigmas_.end());
    init_noise_sigma_ = schedule_.timestep_spacing == "leading"
                            ? std::sqrt(max_sigma * max_sigma + 1.0f)
                            : max_sigma;
    next_ = 0;
    return absl::OkStatus();
  }
  const std::vector<double>& timesteps() const override { return timesteps_; }
  double init_noise_sigma() const override { return init_noise_sigma_; }
  torch::Tensor ScaleModelInput(const torch::Tensor& sample, size_t k) const override {
    const float sigma = sigmas_[k];
    return sample / std::sqrt(sigma * sigma + 1.0f);
  }
  absl::StatusOr<torch::Tensor> Step(const torch::Tensor& output, size_t k,
                                     const torch::Tensor& sample_in) override {
    STAMINA_RETURN_IF_ERROR(CheckStep(k, next_, timesteps_.size(), output, sample_in));
    ++next_;
    const float sigma = sigmas_[k];
    const float dt = sigmas_[k + 1] - sigma;
    return RunTorch([&] {
      const torch::Tensor sample = sample_in.to(torch::kFloat32);
      torch::Tensor original;
      if (schedule_.prediction_type == "v_prediction") {
        original = output * (-sigma / std::sqrt(sigma * sigma + 1.0f)) +
                   sample / (sigma * sigma + 1.0f);
      } else if (schedule_.prediction_type == "sample") {
        original = output;
      } else {
        original = sample - sigma * output;
      }
      const torch::Tensor derivative = (sample - original) / sigma;
      return (sample + derivative * dt).to(output.scalar_type());
    });
  }

 private:
  const DDIMSchedulerConfig schedule_;
  const std::vector<float> train_sigmas_;
  std::vector<double> timesteps_;
  std::vector<float> sigmas_;
  float init_noise_sigma_ = 1.0f;
  size_t next_ = 0;
};

// Present and not `allowed` (JSON text): the named field is refused.
absl::Status Only(const std::map<std::string, std::string>& fields, const char* name,
                  std::initializer_list<const char*> allowed, const char* sampler) {
  const auto it = fields.find(name);
  if (it == fields.end() || it->second == "null") return absl::OkStatus();
  for (const char* value : allowed) {
    if (it->second == value) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "scheduler_config.json: ", name, ": ", it->second, " is not implemented for the ",
      sampler, " sampler"));
}

}  // namespace

absl::StatusOr<SamplerKind> ParseSamplerKind(absl::string_view name, absl::string_view field) {
  if (name == "ddim") return SamplerKind::kDdim;
  if (name == "pndm") return SamplerKind::kPndm;
  if (name == "euler") return SamplerKind::kEuler;
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", name, "\" is not ddim, pndm or euler"));
}

const char* SamplerKindName(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kDdim:
      return "ddim";
    case SamplerKind::kPndm:
      return "pndm";
    case SamplerKind::kEuler:
      return "euler";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<SamplingScheduler>> CreateSamplingScheduler(
    SamplerKind kind, const DDIMSchedulerConfig& schedule,
    const std::map<std::string, std::string>& sampler_fields) {
  STAMINA_ASSIGN_OR_RETURN(DDIMScheduler ddim, DDIMScheduler::Create(schedule));
  if (kind == SamplerKind::kDdim) return std::make_unique<DdimSampling>(std::move(ddim));
  const torch::Tensor& cumprod = ddim.alphas_cumprod();
  const float* values = cumprod.data_ptr<float>();
  if (kind == SamplerKind::kPndm) {
    STAMINA_RETURN_IF_ERROR(Only(sampler_fields, "skip_prk_steps", {"true"}, "pndm"));
    if (schedule.prediction_type == "sample") {
      return absl::InvalidArgumentError(
          "prediction_type: \"sample\" is not implemented for the pndm sampler");
    }
    return std::make_unique<PndmSampling>(
        schedule, std::vector<double>(values, values + cumprod.numel()));
  }
  for (const char* name : {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"}) {
    STAMINA_RETURN_IF_ERROR(Only(sampler_fields, name, {"false"}, "euler"));
  }
  STAMINA_RETURN_IF_ERROR(Only(sampler_fields, "interpolation_type", {"\"linear\""}, "euler"));
  STAMINA_RETURN_IF_ERROR(Only(sampler_fields, "final_sigmas_type", {"\"zero\""}, "euler"));
  // sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), in float32 as diffusers.
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor sigmas, RunTorch([&] {
                             return ((1 - cumprod) / cumprod).sqrt().contiguous();
                           }));
  const float* s = sigmas.data_ptr<float>();
  return std::make_unique<EulerSampling>(schedule, std::vector<float>(s, s + sigmas.numel()));
}

}  // namespace stamina::core
