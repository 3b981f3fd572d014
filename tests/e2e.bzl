"""e2e_test: an end-to-end shell test of the real binaries."""

def e2e_test(name, size, binaries, data = []):
    """`name`.sh, given the paths of `binaries` as its arguments, in order.

    Args:
      name: the test; its script is `name`.sh, which sources tests/e2e_lib.sh.
      size: the test size.
      binaries: labels passed as $(location) arguments and shipped as data.
      data: more runfiles.
    """
    native.sh_test(
        name = name,
        size = size,
        srcs = [name + ".sh"],
        args = ["$(location %s)" % label for label in binaries],
        data = binaries + data,
        deps = [":e2e_lib"],
    )
