"""@libtorch: the LibTorch the project links, Debian's or one the user names.

Debian ships only a CPU LibTorch (libtorch-dev, 1.13). A CUDA build links a
LibTorch folder instead: the one inside a PyTorch wheel
(`python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))'`) or an
unpacked libtorch zip, i.e. a folder with include/ (ATen, c10, torch...) and
lib/ (libtorch.so, libtorch_cpu.so, libc10.so, and for CUDA libtorch_cuda.so
and libc10_cuda.so). `tools/libtorch/configure.sh FOLDER` writes
libtorch.bazelrc (git-ignored, imported by .bazelrc) with
--repo_env=STAMINA_LIBTORCH=FOLDER (and STAMINA_CUDA_INCLUDE, the folder of
cuda_runtime_api.h, for a CUDA LibTorch).

Headers reach every dependent through `includes` (-isystem, so that their
warnings stay out of -Werror): Bazel refuses -isystem copts outside the
execution root other than the compiler's own directories, so the folders are
linked into this repository and declared. Debian's: only the C++ frontend's
folder (/usr/include/torch/csrc/api/include; ATen and c10 sit in
/usr/include already). A LibTorch folder's: include/ and the frontend's.

With a CUDA LibTorch the target also defines STAMINA_WITH_CUDA
(core/compute_device.cc then reads device properties) and links
libtorch_cuda with --no-as-needed: nothing references its symbols directly,
and without it LibTorch registers no CUDA kernels and sees no GPU.
"""

_BUILD = """
# {what}
cc_library(
    name = "torch",
    hdrs = glob({globs}),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
"""

_DEBIAN_API = "/usr/include/torch/csrc/api/include"

def _libtorch_repository_impl(ctx):
    folder = ctx.os.environ.get("STAMINA_LIBTORCH", "")
    if not folder:
        ctx.symlink(_DEBIAN_API, "api")
        ctx.file("BUILD.bazel", _BUILD.format(
            what = "Debian's CPU LibTorch (libtorch-dev); its C++ frontend headers linked as api/.",
            globs = repr(["api/**/*.h"]),
            includes = repr(["api"]),
            defines = repr([]),
            linkopts = repr(["-ltorch", "-ltorch_cpu", "-lc10"]),
        ))
        return
    for required in ["include/torch", "include/ATen", "lib/libtorch.so", "lib/libtorch_cpu.so", "lib/libc10.so"]:
        if not ctx.path(folder + "/" + required).exists:
            fail("STAMINA_LIBTORCH=%s: no %s there; expected a LibTorch folder (include/, lib/)" % (folder, required))
    ctx.symlink(folder + "/include", "include")
    lib = str(ctx.path(folder + "/lib"))
    globs = ["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]
    includes = ["include", "include/torch/csrc/api/include"]
    linkopts = ["-L" + lib, "-Wl,-rpath," + lib, "-ltorch", "-ltorch_cpu", "-lc10"]
    defines = []
    if ctx.path(folder + "/lib/libtorch_cuda.so").exists:
        cuda_include = ctx.os.environ.get("STAMINA_CUDA_INCLUDE", "/usr/local/cuda/include")
        if not ctx.path(cuda_include + "/cuda_runtime_api.h").exists:
            fail("STAMINA_LIBTORCH=%s is a CUDA LibTorch, but %s has no cuda_runtime_api.h: set STAMINA_CUDA_INCLUDE" % (folder, cuda_include))
        ctx.symlink(cuda_include, "cuda_include")
        globs += ["cuda_include/**/*.h", "cuda_include/**/*.hpp"]
        includes.append("cuda_include")
        linkopts += ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
        defines.append("STAMINA_WITH_CUDA")
    ctx.file("BUILD.bazel", _BUILD.format(
        what = "LibTorch from %s (STAMINA_LIBTORCH)." % folder,
        globs = repr(globs),
        includes = repr(includes),
        defines = repr(defines),
        linkopts = repr(linkopts),
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["STAMINA_LIBTORCH", "STAMINA_CUDA_INCLUDE"],
    local = True,
)
