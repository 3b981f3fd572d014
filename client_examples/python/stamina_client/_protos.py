"""Generates the stamina.v1 Python stubs with grpc_tools (Debian:
python3-grpc-tools) from the repository's protos/ (see generate.py)."""

import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTOS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "protos"))
DEFAULT_OUT = os.path.join(HERE, "_generated")


def generate(protos: str = DEFAULT_PROTOS, out: str = DEFAULT_OUT) -> str:
    from grpc_tools import protoc  # only needed here, not at run time

    files = sorted(glob.glob(os.path.join(protos, "stamina", "v1", "*.proto")))
    if not files:
        raise FileNotFoundError(f"no stamina/v1/*.proto under {protos}")
    os.makedirs(out, exist_ok=True)
    # Debian's grpc_tools does not bundle the well-known types (Timestamp,
    # Duration); protobuf-compiler's /usr/include has them.
    includes = [f"-I{protos}"] + [f"-I{d}" for d in ("/usr/include",) if os.path.isdir(d)]
    status = protoc.main(["protoc", *includes, f"--python_out={out}",
                          f"--grpc_python_out={out}", *files])
    if status != 0:
        raise RuntimeError(f"protoc failed ({status}) on {protos}")
    for directory, _, _ in os.walk(os.path.join(out, "stamina")):
        open(os.path.join(directory, "__init__.py"), "a").close()
    return out
