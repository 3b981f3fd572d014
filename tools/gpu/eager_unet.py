#!/usr/bin/env python3
"""The PyTorch-eager anchor of issue #19, run beside bench:concept_step on the
GPU machine (tools/gpu/run.sh): diffusers' UNet2DConditionModel with SD 1.5's
configuration (random weights), rank-4 LoRA on every attn2.to_k / attn2.to_v
(the layers STAMINA adapts by default), bf16 autocast, AdamW on the LoRA
weights only, 64x64 latents: milliseconds per training step at each batch
size, peak memory, and 25 CFG steps of UNet time for one 512x512 image.
UNet only (no VAE, no text encoder): compare it with a UNet-only number.

  python3 tools/gpu/eager_unet.py --diffusers gpu-carry/diffusers/src --out gpu-out/eager
"""

import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diffusers", required=True, help="diffusers' src/ folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--batches", default="1,4,8")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, args.diffusers)
    import torch
    from diffusers import UNet2DConditionModel

    device = torch.device("cuda")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                          "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                        "CrossAttnUpBlock2D"),
        cross_attention_dim=768, attention_head_dim=8).to(device)
    unet.requires_grad_(False)

    class LoRA(torch.nn.Module):
        def __init__(self, base, rank=4):
            super().__init__()
            self.base = base
            self.down = torch.nn.Linear(base.in_features, rank, bias=False, device=device)
            self.up = torch.nn.Linear(rank, base.out_features, bias=False, device=device)
            torch.nn.init.zeros_(self.up.weight)

        def forward(self, x):
            return self.base(x) + self.up(self.down(x))

    adapted = 0
    for name, module in list(unet.named_modules()):
        if name.endswith("attn2"):
            module.to_k = LoRA(module.to_k)
            module.to_v = LoRA(module.to_v)
            adapted += 2
    lora = [p for n, p in unet.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(lora, lr=1e-4)
    parameters = sum(p.numel() for p in unet.parameters())
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "unet_parameters": parameters, "adapted_layers": adapted,
              "lora_parameters": sum(p.numel() for p in lora), "training": []}
    for batch in [int(b) for b in args.batches.split(",")]:
        latents = torch.randn(batch, 4, 64, 64, device=device)
        context = torch.randn(batch, 77, 768, device=device)
        torch.cuda.reset_peak_memory_stats()
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                torch.cuda.synchronize()
                start = time.perf_counter()
            t = torch.randint(0, 1000, (batch,), device=device)
            noise = torch.randn_like(latents)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                predicted = unet(latents + noise, t, context).sample
            loss = torch.nn.functional.mse_loss(predicted.float(), noise)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - start) * 1000 / args.steps
        result["training"].append({"batch": batch, "ms_per_step": ms,
                                   "images_per_s": batch * 1000 / ms,
                                   "peak_bytes": torch.cuda.max_memory_allocated()})
        print(f"eager batch {batch}: {ms:.1f} ms/step, {batch * 1000 / ms:.1f} images/s, "
              f"peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB", flush=True)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        latents = torch.randn(2, 4, 64, 64, device=device)
        context = torch.randn(2, 77, 768, device=device)
        for _ in range(3):
            unet(latents, torch.tensor([500, 500], device=device), context)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for step in range(25):
            unet(latents, torch.tensor([999 - 40 * step] * 2, device=device), context)
        torch.cuda.synchronize()
    result["sampling_unet_seconds_25_cfg_steps"] = time.perf_counter() - start
    print(f"eager sampling: {result['sampling_unet_seconds_25_cfg_steps']:.3f} s of UNet "
          "time for 25 CFG steps of one 512x512 image", flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eager_unet.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
