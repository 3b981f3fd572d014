"""Checks the workspace's package graph (a genquery's --output=graph).

  layering_test.py GRAPH_FILE PACKAGES...

Fails, naming the evidence, when
  - two top-level packages depend on each other, directly or in a loop;
  - a target of a torch-free package reaches LibTorch (@system//:torch);
  - a package depends on one it must not (FORBIDDEN);
  - the graph shows a package that PACKAGES (tests/layering/packages.bzl)
    does not list, so its own targets would go unchecked.
"""

import collections
import re
import sys

TORCH = "@system//:torch"

# Never LibTorch, not even through another package.
TORCH_FREE = ["cli", "common", "images", "protos", "rpc", "server", "storage", "webhooks"]

# Top-level package -> top-level packages it must not depend on (the DAG:
# common -> {storage, core, images, rpc} -> {worker, sampler, server} ->
# {app, cli, tools, bench} -> tests).
FORBIDDEN = {
    "common": ["app", "bench", "cli", "core", "images", "protos", "rpc", "sampler",
               "server", "storage", "tests", "tools", "worker"],
    "core": ["app", "images", "protos", "rpc", "sampler", "server", "storage", "worker"],
    "storage": ["app", "core", "images", "rpc", "sampler", "server", "worker"],
    "images": ["app", "core", "rpc", "sampler", "server", "worker"],
    "rpc": ["app", "core", "images", "sampler", "server", "worker"],
    "server": ["app", "core", "sampler", "worker"],
    "worker": ["app", "sampler", "server"],
    "sampler": ["app", "server"],
}


def top_level(label):
    """'//core/nn:x' -> 'core'; None outside the main repository."""
    if not label.startswith("//"):
        return None
    package = label[2:].split(":", 1)[0]
    return package.split("/", 1)[0] or "//"


def read_edges(path):
    edges = collections.defaultdict(set)
    for line in open(path):
        match = re.match(r'\s*"([^"]+)" -> "([^"]+)"', line)
        if match:
            edges[match.group(1)].add(match.group(2))
    return edges


def path_between(edges, start, goal):
    """A shortest target path from start to goal, or None."""
    parent = {start: None}
    queue = collections.deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = parent[node]
            return path[::-1]
        for child in sorted(edges.get(node, ())):
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return None


def package_edges(edges):
    """(top-level package, top-level package) -> one target edge behind it."""
    out = {}
    for source, targets in edges.items():
        a = top_level(source)
        for target in targets:
            b = top_level(target)
            if a and b and a != b:
                out.setdefault((a, b), (source, target))
    return out


def find_cycle(pairs):
    """A list of packages [p0, p1, ..., p0] forming a cycle, or None."""
    graph = collections.defaultdict(set)
    for a, b in pairs:
        graph[a].add(b)
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return stack[stack.index(child):] + [child]
            if child not in state:
                cycle = visit(child, stack)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def main(argv):
    edges = read_edges(argv[1])
    listed = {p[2:] for p in argv[2:]}
    errors = []

    if not edges:
        errors.append("the graph is empty")
    # Packages of rules (sources of edges); packages that only export files
    # (docs/, client_examples/) have none to list. The root package holds the
    # package groups only.
    rule_packages = {n[2:].split(":", 1)[0] for n in edges if n.startswith("//")}
    for package in sorted(rule_packages - listed - {""}):
        errors.append(f"//{package} is in the graph but not in tests/layering/packages.bzl")

    pairs = package_edges(edges)
    cycle = find_cycle(pairs)
    if cycle:
        hops = [f"  {a} -> {b}: {pairs[(a, b)][0]} -> {pairs[(a, b)][1]}"
                for a, b in zip(cycle, cycle[1:])]
        errors.append("a cycle between top-level packages:\n" + "\n".join(hops))

    for (a, b), (source, target) in sorted(pairs.items()):
        if b in FORBIDDEN.get(a, ()):
            errors.append(f"{a}/ must not depend on {b}/: {source} -> {target}")

    reported = set()  # one path per package is enough to act on
    for source in sorted(edges):
        package = top_level(source)
        if package in TORCH_FREE and package not in reported:
            path = path_between(edges, source, TORCH)
            if path:
                reported.add(package)
                errors.append(f"{package}/ must stay torch-free: " + " -> ".join(path))

    if errors:
        print("layering check FAILED:")
        for error in errors:
            print("- " + error)
        return 1
    print(f"layering OK: {len(pairs)} edges between top-level packages, no cycle, "
          f"{', '.join(TORCH_FREE)} torch-free")
    for a, b in sorted(pairs):
        print(f"  {a} -> {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
