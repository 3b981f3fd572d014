// File: core/training/pretraining.h
//
// Pretraining of a built-in base model on the synthetic world, as Stable
// Diffusion was trained, in three phases: (1) the AutoencoderKL alone on
// reconstruction (MSE + L1 + a small KL term), after which the VAE's
// scaling_factor is measured (1 / the standard deviation of its latents, as
// Stable Diffusion's 0.18215 was) and exported in model_index.json; (2) with
// the VAE frozen, the text encoder and the UNet on the denoising objective
// (denoising_loss.h), captions dropped 10% of the time so classifier-free
// guidance works, with an exponential moving average of the weights, which is
// what gets exported;
// (3) the VAE decoder alone, encoder frozen, on reconstruction again: the
// latent space the UNet learned stays fixed while the decoder recovers the
// small details (eyes, mouths) a short first phase leaves blurred, as Stable
// Diffusion's ft-MSE decoder was made. AdamW with linear warm-up and cosine
// decay in every phase.
//
// Deterministic for a seed, and resumable: everything random is derived from
// (seed, phase, step), and a checkpoint (weights, EMA, optimizer state, step)
// is written every `checkpoint_every` steps and when stopped, so a run that
// is interrupted and resumed produces exactly the weights of one that was
// not. Layout under out_dir:
//   checkpoint/      state.json, model/ (current weights), ema.safetensors,
//                    optimizer.pt
//   model/           the exported base model (EMA weights; base_models.h)
//
// Not thread-safe: one run per out_dir.
#ifndef STAMINA_CORE_TRAINING_PRETRAINING_H_
#define STAMINA_CORE_TRAINING_PRETRAINING_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace stamina::core {

struct PretrainingOptions {
  std::string out_dir;
  std::string architecture = "stamina-tiny-v1";
  uint64_t seed = 1;
  int vae_steps = 2000;
  int diffusion_steps = 4000;
  int decoder_steps = 1500;
  int batch_size = 32;
  float vae_learning_rate = 1e-3f;
  float diffusion_learning_rate = 4e-4f;
  float decoder_learning_rate = 5e-4f;
  int warmup_steps = 200;
  float ema_decay = 0.999f;
  float kl_weight = 1e-6f;
  float caption_dropout = 0.1f;
  int checkpoint_every = 200;
  // Recorded in the exported model's metadata.
  std::string command_line;
};

struct PretrainingProgress {
  std::string phase;  // "vae", "diffusion" or "decoder"
  int step = 0;       // steps done in this phase
  int total_steps = 0;
  float loss = 0;
  double seconds = 0;  // wall time in this process
};

// Runs (or resumes) pretraining to the end and exports the model. Returns
// CANCELLED (after writing a checkpoint) when `stop` becomes true;
// INVALID_ARGUMENT for bad options.
absl::Status RunPretraining(
    const PretrainingOptions& options,
    const std::function<void(const PretrainingProgress&)>& progress = nullptr,
    const std::atomic<bool>* stop = nullptr);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TRAINING_PRETRAINING_H_
