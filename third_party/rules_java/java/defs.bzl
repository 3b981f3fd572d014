"""Forwards @rules_java//java:defs.bzl to Bazel 4.2.3's built-in Java rules.

Bazel's @bazel_tools//tools/jdk registers Java toolchains by loading these
names; Stamina has no Java, but toolchain resolution reads that package, so the
shim keeps it offline.
"""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_plugin = native.java_plugin
java_runtime = native.java_runtime
java_test = native.java_test
java_toolchain = native.java_toolchain
