#!/usr/bin/env python3
"""Writes CMakeLists.txt from the Bazel build, for machines without Bazel.

The GPU machine (docs/toolchain.md) has CMake and a CUDA LibTorch but no
Bazel, so the project's C++ is also buildable with CMake. The BUILD files
stay the one source of truth: this script reads every cc_library,
cc_binary and cc_test (and the protoc genrules of //bazel:grpc.bzl) through
`bazel query --output=xml` and writes one CMakeLists.txt that mirrors them,
target for target. `./stamina.sh test` runs it with --check, so a BUILD
change without a regenerated CMakeLists.txt fails the suite.

  tools/cmake/generate.py            # rewrite CMakeLists.txt
  tools/cmake/generate.py --check    # exit 1 if it is out of date
"""

import argparse
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

WORKSPACE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.path.join(WORKSPACE, "CMakeLists.txt")

# libFuzzer targets need clang's -fsanitize=fuzzer; the TSan shim only
# exists for --config=tsan; genquery-based layering tests read Bazel's graph.
EXCLUDED_PREFIXES = ("//third_party/tsan", "//tests/layering")
EXCLUDED_SUFFIXES = ("_fuzz",)
TORCH_LABELS = ("@system//:torch", "@libtorch//:torch")
PROTO_ROOTS = {
    "//protos": "${CMAKE_SOURCE_DIR}/protos",
    "@grpc_proto//": "${STAMINA_GRPC_PROTO_DIR}",
}


def query():
    result = subprocess.run(
        ["bazel", "query", "--noimplicit_deps", "--output=xml",
         'kind("cc_library|cc_binary|cc_test|alias|genrule", deps(//...))'],
        cwd=WORKSPACE, check=True, capture_output=True, text=True)
    return ElementTree.fromstring(result.stdout)


def attributes(rule):
    values = {}
    for child in rule:
        name = child.get("name")
        if child.tag == "list":
            values[name] = [item.get("value") for item in child]
        elif child.tag in ("string", "label", "boolean", "int"):
            values[name] = child.get("value")
    return values


def package_of(label):
    return label.split(":")[0]


def file_path(label):
    """//core:a/b.cc -> core/a/b.cc"""
    package, name = label.split(":")
    package = package.lstrip("/")
    return f"{package}/{name}" if package else name


def target_name(label):
    package, name = label.split(":")
    repo = ""
    if label.startswith("@"):
        repo, package = package.split("//")
        repo = repo.lstrip("@") + "_"
    package = package.lstrip("/").replace("/", "_")
    return (repo + (package + "_" if package else "") + name).replace("-", "_").replace(".", "_")


def excluded(label):
    return label.startswith(EXCLUDED_PREFIXES) or label.endswith(EXCLUDED_SUFFIXES)


def proto_root(label):
    for prefix, root in PROTO_ROOTS.items():
        if label.startswith(prefix):
            return prefix, root
    raise SystemExit(f"generate.py: no proto root for {label}")


def cmake_list(items, indent="    "):
    return "".join(f"\n{indent}{item}" for item in items)


def render(rules):
    aliases = {}
    for label, (kind, attrs) in rules.items():
        if kind == "alias":
            aliases[label] = attrs["actual"]

    def resolve(label):
        while label in aliases:
            label = aliases[label]
        return label

    def alwayslink(label):
        kind, attrs = rules.get(label, ("", {}))
        return kind == "cc_library" and attrs.get("alwayslink") in ("1", "true")

    # Generated file -> (genrule label).
    generated = {}
    for label, (kind, attrs) in rules.items():
        if kind == "genrule":
            for out in attrs.get("outs", []):
                generated[out] = label

    out = [HEADER]
    for label in sorted(rules):
        kind, attrs = rules[label]
        if kind != "genrule":
            continue
        if "protoc" not in attrs.get("cmd", ""):
            raise SystemExit(f"generate.py: genrule {label} is not a protoc genrule")
        prefix, root = proto_root(label)
        package = package_of(label)
        protos = [src for src in attrs.get("srcs", [])
                  if src.endswith(".proto") and package_of(src) == package]
        relative = [src.split(":")[1] for src in protos]
        outs = [o.split(":")[1] for o in attrs["outs"]]
        gen_dir = "${STAMINA_GEN}/" + target_name(package + ":x")[:-2]
        grpc = any(o.endswith(".grpc.pb.cc") for o in outs)
        command = ["${STAMINA_PROTOC}", f"-I{root}", "-I${STAMINA_PROTO_INCLUDE}",
                   f"--cpp_out={gen_dir}"]
        if grpc:
            command += [f"--grpc_out={gen_dir}",
                        "--plugin=protoc-gen-grpc=${STAMINA_GRPC_CPP_PLUGIN}"]
        command += [f"{root}/{r}" for r in relative]
        out.append(
            f"stamina_protoc({target_name(label)}\n"
            f"  DIR \"{gen_dir}\"\n"
            f"  OUTPUTS{cmake_list(outs)}\n"
            f"  COMMAND{cmake_list(command)}\n"
            f"  DEPENDS{cmake_list(root + '/' + r for r in relative)})\n")

    for label in sorted(rules):
        kind, attrs = rules[label]
        if kind not in ("cc_library", "cc_binary", "cc_test") or label.startswith(
                ("@system//", "@libtorch//")):
            continue
        name = target_name(label)
        package = package_of(label)
        sources = []
        for src in attrs.get("srcs", []) + attrs.get("hdrs", []):
            if src in generated:
                gen_package = target_name(package_of(src) + ":x")[:-2]
                sources.append("${STAMINA_GEN}/" + gen_package + "/" + src.split(":")[1])
            else:
                sources.append("${CMAKE_SOURCE_DIR}/" + file_path(src))
        compiled = [s for s in sources if s.endswith((".cc", ".cpp", ".c"))]
        deps = []
        for dep in attrs.get("deps", []):
            dep = resolve(dep)
            if excluded(dep):
                continue
            if dep in TORCH_LABELS or dep.startswith("@libtorch//"):
                deps.append("stamina_torch")
            elif dep.startswith("@system//"):
                deps.append("stamina_system_" + dep.split(":")[1])
            elif alwayslink(dep):
                # Linked whole, as Bazel does, even when nothing references
                # its symbols (jemalloc_config's malloc_conf).
                deps.append(f"$<LINK_LIBRARY:WHOLE_ARCHIVE,{target_name(dep)}>")
            else:
                deps.append(target_name(dep))
        # `includes` are relative to the package: its generated folder for a
        # library compiled from generated code only (the protos), else its sources.
        generated_only = compiled and all(s.startswith("${STAMINA_GEN}") for s in compiled)
        base = ("${STAMINA_GEN}/" + target_name(package + ":x")[:-2] if generated_only else
                "${CMAKE_SOURCE_DIR}/" + package.lstrip("/"))
        includes = [os.path.normpath(base + "/" + include)
                    for include in attrs.get("includes", [])]
        scope = "PUBLIC"
        lines = []
        if kind == "cc_library":
            if compiled:
                lines.append(f"add_library({name} STATIC{cmake_list(sources)})")
            else:
                scope = "INTERFACE"
                lines.append(f"add_library({name} INTERFACE)")
        else:
            lines.append(f"add_executable({name}{cmake_list(sources)})")
            binary_dir = "${CMAKE_BINARY_DIR}/" + package.lstrip("/")
            lines.append(f"set_target_properties({name} PROPERTIES OUTPUT_NAME "
                         f"\"{label.split(':')[1]}\" RUNTIME_OUTPUT_DIRECTORY \"{binary_dir}\")")
            scope = "PRIVATE"
        if scope != "INTERFACE":
            lines.append(f"stamina_project_target({name})")
        if includes:
            lines.append(f"target_include_directories({name} {scope}{cmake_list(includes)})")
        if attrs.get("defines"):
            lines.append(f"target_compile_definitions({name} {scope}{cmake_list(attrs['defines'])})")
        if attrs.get("copts"):
            private = "INTERFACE" if scope == "INTERFACE" else "PRIVATE"
            lines.append(f"target_compile_options({name} {private}{cmake_list(attrs['copts'])})")
        links = deps + attrs.get("linkopts", [])
        if links:
            lines.append(f"target_link_libraries({name} {scope}{cmake_list(links)})")
        if kind == "cc_test":
            tags = attrs.get("tags", [])
            labels = ";".join(tags) if tags else "cpu"
            lines.append(
                f"add_test(NAME {label} COMMAND {name} WORKING_DIRECTORY ${{CMAKE_SOURCE_DIR}})")
            lines.append(f"set_tests_properties({label} PROPERTIES LABELS \"{labels}\" "
                         f"ENVIRONMENT \"TEST_TMPDIR=${{CMAKE_BINARY_DIR}}/test_tmp\")")
        out.append("\n".join(lines) + "\n")

    system = []
    for label in sorted(rules):
        kind, attrs = rules[label]
        if not label.startswith("@system//") or kind != "cc_library":
            continue
        name = "stamina_system_" + label.split(":")[1]
        deps = ["stamina_system_" + resolve(d).split(":")[1]
                for d in attrs.get("deps", [])
                if resolve(d).startswith("@system//") and not excluded(resolve(d))]
        system.append(f"add_library({name} INTERFACE)")
        flags = attrs.get("linkopts", []) + deps
        if flags:
            system.append(f"target_link_libraries({name} INTERFACE{cmake_list(flags)})")
    out.insert(1, "# Debian's libraries (third_party/system.BUILD).\n" + "\n".join(system) + "\n")
    return "\n".join(out)


HEADER = """# GENERATED by tools/cmake/generate.py from the BUILD files: do not edit.
# The CMake build of the project's C++ for machines without Bazel (the GPU
# machine): README "Building against another LibTorch".
#
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \\
#         -DSTAMINA_LIBTORCH=<folder with include/ and lib/> [-DSTAMINA_SYSROOT=<dir>]
#   cmake --build build --target core_training_cuda_flow_test bench_train_step
cmake_minimum_required(VERSION 3.24)  # $<LINK_LIBRARY:WHOLE_ARCHIVE,...>
project(stamina CXX)
include(tools/cmake/stamina.cmake)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when CMakeLists.txt is out of date")
    args = parser.parse_args()
    rules = {}
    for rule in query().iter("rule"):
        label = rule.get("name")
        if excluded(label):
            continue
        rules[label] = (rule.get("class"), attributes(rule))
    text = render(rules)
    if args.check:
        current = open(OUTPUT).read() if os.path.exists(OUTPUT) else ""
        if current != text:
            print("CMakeLists.txt is out of date: run tools/cmake/generate.py", file=sys.stderr)
            return 1
        return 0
    with open(OUTPUT, "w") as f:
        f.write(text)
    print(f"wrote {OUTPUT} ({len(rules)} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
