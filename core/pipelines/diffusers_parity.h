// File: core/pipelines/diffusers_parity.h
//
// Recomputes, with a loaded model, the reference tensors that diffusers and
// transformers computed for the same checkpoint, and reports the largest
// absolute difference of each: the proof that our C++ computes what
// diffusers computes. The reference is a safetensors file with a JSON file
// beside it (reference.json: "prompts" and "reference_tensors", names in
// file order), in the format of testdata/diffusers-tiny-sd (its
// make_diffusers_fixture.py says how each was made):
//   token_ids [P, L]                 the prompts through the tokenizer
//   text_encoder.last_hidden_state   the text encoder on token_ids
//   unet.out.t<T>                    the UNet on unet.sample at timestep T,
//                                    with the hidden states of the "" prompt
//                                    and of prompt 0 as the CFG batch
//   vae.encode.mean / .logvar        the VAE posterior of vae.image
//   vae.decode.out                   the VAE decoder on vae.decode.in
//   ddim.timesteps.n<N>              DDIM's timesteps for N steps
//   ddim.step.prev_sample            one DDIM step (10 steps, first
//                                    timestep) from unet.sample[0] with
//                                    unet.out.t999[0] as the model output
//   pipeline.ddim<N>.cfg<A>_<B>.image  the whole pipeline for prompt 0,
//                                    negative "", N DDIM steps, guidance
//                                    A.B, initial latents unet.sample[0]
// unet.sample, vae.image and vae.decode.in are inputs. Each stage starts
// from the reference's own inputs, so one stage's error does not hide in
// the next.
//
// Thread-compatible: uses the model for inference only.
#ifndef STAMINA_CORE_PIPELINES_DIFFUSERS_PARITY_H_
#define STAMINA_CORE_PIPELINES_DIFFUSERS_PARITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct ParityTolerances {
  double tensors = 1e-4;
  // A quarter of one 8-bit level for the whole pipeline's [0, 1] image.
  double pipeline_image = 1e-3;
};

struct ParityLine {
  std::string name;
  double max_abs_error = 0;
  double tolerance = 0;
  bool ok() const { return max_abs_error <= tolerance; }
};

// One line per recomputed tensor, in the reference's order. NOT_FOUND or
// DATA_LOSS for unreadable reference files; INVALID_ARGUMENT for a
// reference tensor this does not know how to recompute (named), a missing
// input, or a shape that differs from ours.
absl::StatusOr<std::vector<ParityLine>> CheckDiffusersParity(
    DiffusionModel& model, const std::string& reference_safetensors,
    const ParityTolerances& tolerances = {});

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_DIFFUSERS_PARITY_H_
