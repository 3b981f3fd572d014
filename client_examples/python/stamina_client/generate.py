"""Generates the stamina.v1 Python stubs with grpc_tools (Debian:
python3-grpc-tools) from the repository's protos/ into a directory that
stamina_client puts on sys.path.

  python3 -m stamina_client.generate [--protos DIR] [--out DIR]
"""

import argparse
import os
import sys

from stamina_client._protos import DEFAULT_OUT, DEFAULT_PROTOS, generate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protos", default=DEFAULT_PROTOS)
    parser.add_argument("--out", default=os.environ.get("STAMINA_STUBS_DIR", DEFAULT_OUT))
    args = parser.parse_args()
    print(generate(args.protos, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
