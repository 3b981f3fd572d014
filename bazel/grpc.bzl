"""C++ protobuf + gRPC code generation with the system protoc.

Bazel 4.2.3 offline has no cc_grpc_library, so a genrule runs Debian's
/usr/bin/protoc with /usr/bin/grpc_cpp_plugin. The package that calls the
macro is the proto root: a file `stamina/v1/job.proto` in package `//protos`
is imported as "stamina/v1/job.proto" and its generated header is included as
"stamina/v1/job.pb.h". Well-known types (google/protobuf/*.proto) resolve
through /usr/include, where libprotobuf-dev installs them.
"""

def cc_grpc_proto_library(name, srcs, deps = [], grpc = True, visibility = None, testonly = False):
    """Generates and compiles C++ code for `srcs`.

    Args:
      name: the cc_library; `name + "_protos"` is a filegroup of the .proto
        files, for dependents' imports and for other-language generators.
      srcs: .proto files, relative to the calling package (the proto root).
      deps: other cc_grpc_proto_library targets whose protos `srcs` import.
      grpc: also generate gRPC service code (*.grpc.pb.{h,cc}).
      visibility: of the library and the filegroup.
      testonly: as for any rule.
    """
    repo = native.repository_name()
    package = native.package_name()
    root = package
    if repo != "@":
        root = "external/" + repo[1:] + ("/" + package if package else "")
    gen_root = "$(GENDIR)" + ("/" + root if root else "")

    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    cmd = "/usr/bin/protoc -I%s -I/usr/include --cpp_out=%s" % (root or ".", gen_root)
    if grpc:
        cmd += " --grpc_out=%s --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin" % gen_root
    cmd += " " + " ".join(["$(location %s)" % src for src in srcs])

    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [dep + "_protos" for dep in deps],
        visibility = visibility,
        testonly = testonly,
    )
    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [dep + "_protos" for dep in deps],
        outs = outs,
        cmd = cmd,
        message = "Generating C++ protobuf/gRPC code for " + name,
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [out for out in outs if out.endswith(".cc")],
        hdrs = [out for out in outs if out.endswith(".h")],
        includes = ["."],
        deps = deps + ["@system//:grpc" if grpc else "@system//:protobuf"],
        visibility = visibility,
        testonly = testonly,
    )
