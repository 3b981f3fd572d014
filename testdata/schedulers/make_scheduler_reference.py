"""Reference outputs of diffusers' own PNDMScheduler and EulerDiscreteScheduler.

Runs the scheduler files of a diffusers source tree (argument 1: its
src/diffusers/schedulers folder) with small stand-ins for diffusers' package
machinery (config registration, output classes), on Debian's python3-torch,
and writes reference.json (argument 2): for each case, the timesteps, the
initial noise sigma and the sample after every step of a loop driven by a
fixed synthetic "model" (eps = 0.3 * x + 0.05 * cos(t / 100 + i), i the
element index), so multi-step history and input scaling both count.
A record of how the numbers came to be, not project code.
"""
import dataclasses, importlib.util, inspect, json, math, sys, types
import torch

src, out = sys.argv[1], sys.argv[2]

def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module

def register_to_config(init):
    signature = inspect.signature(init)
    def wrapped(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self")
        self.config = types.SimpleNamespace(**values)
        init(self, *args, **kwargs)
    return wrapped

class ConfigMixin:
    def register_to_config(self, **kwargs):
        self.config.__dict__.update(kwargs)

class BaseOutput:
    pass

class SchedulerMixin:
    pass

class Logger:
    def warning(self, *a, **k): pass
    def info(self, *a, **k): pass

stub("diffusers")
stub("diffusers.configuration_utils", ConfigMixin=ConfigMixin, register_to_config=register_to_config)
stub("diffusers.utils", BaseOutput=BaseOutput, is_scipy_available=lambda: False,
     logging=types.SimpleNamespace(get_logger=lambda name: Logger()))
stub("diffusers.utils.torch_utils", randn_tensor=None)
@dataclasses.dataclass
class SchedulerOutput(BaseOutput):
    prev_sample: torch.Tensor
stub("diffusers.schedulers")
stub("diffusers.schedulers.scheduling_utils", KarrasDiffusionSchedulers=[],
     SchedulerMixin=SchedulerMixin, SchedulerOutput=SchedulerOutput)

def load(name):
    spec = importlib.util.spec_from_file_location(f"diffusers.schedulers.{name}", f"{src}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module

pndm = load("scheduling_pndm").PNDMScheduler
euler = load("scheduling_euler_discrete").EulerDiscreteScheduler

SD = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
          steps_offset=1)

def fake_model(x, t):
    index = torch.arange(x.numel(), dtype=torch.float32).reshape(x.shape)
    return 0.3 * x + 0.05 * torch.cos(float(t) / 100 + index)

def run(scheduler, steps):
    scheduler.set_timesteps(steps)
    x0 = torch.sin(torch.arange(32, dtype=torch.float32) * 0.7).reshape(1, 2, 4, 4)
    sample = x0 * float(scheduler.init_noise_sigma)
    samples = []
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(sample, t)
        sample = scheduler.step(fake_model(model_input, t), t, sample).prev_sample
        samples.append(sample.flatten().tolist())
    return {"timesteps": [float(t) for t in scheduler.timesteps],
            "init_noise_sigma": float(scheduler.init_noise_sigma), "samples": samples}

cases = {}
for steps in (10, 25):
    cases[f"pndm.leading.n{steps}"] = run(pndm(**SD, skip_prk_steps=True, set_alpha_to_one=False), steps)
    for spacing in ("leading", "linspace", "trailing"):
        cases[f"euler.{spacing}.n{steps}"] = run(euler(**SD, timestep_spacing=spacing), steps)
cases["pndm.trailing.v_prediction.n10"] = run(
    pndm(**SD, skip_prk_steps=True, set_alpha_to_one=False, timestep_spacing="trailing",
         prediction_type="v_prediction"), 10)
cases["euler.linspace.v_prediction.n10"] = run(
    euler(**SD, timestep_spacing="linspace", prediction_type="v_prediction"), 10)
json.dump({"torch": torch.__version__, "config": SD, "cases": cases}, open(out, "w"))
print("wrote", out, len(cases), "cases")
