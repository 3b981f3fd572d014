"""Checks the API protos beyond "they compile to C++".

1. They compile to Python with Debian's `/usr/bin/python3 -m grpc_tools.protoc`
   and the generated modules import and work, so clients in other languages
   stay possible.
2. They follow the API rules docs/api.md promises (Google's API design guide,
   AIPs 122/131-136/158/191): per-RPC request/response messages, enum zero
   values, page tokens, comments on everything, field behaviours.
3. docs/api.md documents every service, RPC, message and enum value.

Run by Bazel through api_test.sh; needs Debian's python3-grpc-tools.
"""

import importlib
import os
import re
import subprocess
import sys
import tempfile
import unittest

PYTHON = "/usr/bin/python3"
PROTO_ROOT = "protos"
FIELD_BEHAVIOURS = ("Required.", "Optional.", "Output only.", "Immutable.")


def proto_files():
    found = []
    for directory, _, names in os.walk(PROTO_ROOT):
        found += [os.path.join(directory, n) for n in names if n.endswith(".proto")]
    return sorted(found)


def run_protoc(args):
    result = subprocess.run(
        [PYTHON, "-m", "grpc_tools.protoc", "-I" + PROTO_ROOT, "-I/usr/include"]
        + args,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError("grpc_tools.protoc failed:\n" + result.stderr)


class Api:
    """The protos' descriptors with their source comments, read once."""

    def __init__(self, out_dir):
        from google.protobuf import descriptor_pb2

        descriptor_set = os.path.join(out_dir, "api.pb")
        run_protoc(
            ["--include_source_info", "--include_imports",
             "--descriptor_set_out=" + descriptor_set]
            + [os.path.relpath(p, PROTO_ROOT) for p in proto_files()]
        )
        files = descriptor_pb2.FileDescriptorSet()
        with open(descriptor_set, "rb") as f:
            files.ParseFromString(f.read())
        self.files = [f for f in files.file if f.package.startswith("stamina.")]
        self.comments = {}  # (file name, path tuple) -> leading comment
        for f in self.files:
            for location in f.source_code_info.location:
                self.comments[(f.name, tuple(location.path))] = (
                    location.leading_comments.strip())

    def services(self):
        for f in self.files:
            for i, service in enumerate(f.service):
                yield f, (6, i), service

    def messages(self):
        """Yields (file, path, message, full name) for every message."""
        def walk(f, path, message, prefix):
            full = prefix + "." + message.name
            yield f, path, message, full
            for j, nested in enumerate(message.nested_type):
                if not nested.options.map_entry:
                    yield from walk(f, path + (3, j), nested, full)

        for f in self.files:
            for i, message in enumerate(f.message_type):
                yield from walk(f, (4, i), message, f.package)

    def enums(self):
        """Yields (file, path, enum, full name) for every enum."""
        for f in self.files:
            for i, enum in enumerate(f.enum_type):
                yield f, (5, i), enum, f.package + "." + enum.name
        for f, path, message, full in self.messages():
            for j, enum in enumerate(message.enum_type):
                yield f, path + (4, j), enum, full + "." + enum.name

    def comment(self, f, path):
        return self.comments.get((f.name, path), "")

    def is_resource(self, f, path):
        return "Resource name:" in self.comment(f, path)


def upper_snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


class PythonCodegenTest(unittest.TestCase):
    def test_generated_modules_import_and_round_trip(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as out:
            run_protoc(["--python_out=" + out, "--grpc_python_out=" + out]
                       + [os.path.relpath(p, PROTO_ROOT) for p in proto_files()])
            for directory, _, _ in os.walk(out):
                init = os.path.join(directory, "__init__.py")
                if not os.path.exists(init):
                    open(init, "w").close()
            sys.path.insert(0, out)
            try:
                job_pb2 = importlib.import_module("stamina.v1.job_pb2")
                training_grpc = importlib.import_module(
                    "stamina.v1.training_service_pb2_grpc")
                concept_service_pb2 = importlib.import_module(
                    "stamina.v1.concept_service_pb2")
                importlib.import_module("stamina.v1.model_service_pb2_grpc")
                importlib.import_module("stamina.v1.sampler_service_pb2_grpc")
                importlib.import_module("stamina.v1.concept_service_pb2_grpc")
                importlib.import_module("stamina.internal.v1.work_queue_pb2_grpc")
                importlib.import_module(
                    "stamina.internal.v1.sampler_backend_pb2_grpc")
            finally:
                sys.path.remove(out)

            job = job_pb2.Job(name="models/m/jobs/j1",
                              state=job_pb2.JOB_STATE_QUEUED)
            job.progress.queue_position = 3
            job.settings.method = job_pb2.TRAINING_METHOD_CLORA
            job.settings.clora.regularization_weight = 1e6
            parsed = job_pb2.Job.FromString(job.SerializeToString())
            self.assertEqual(parsed.progress.queue_position, 3)
            self.assertEqual(parsed.settings.method, job_pb2.TRAINING_METHOD_CLORA)

            chunk = concept_service_pb2.UploadImagesRequest(chunk=b"\x89PNG")
            self.assertEqual(chunk.WhichOneof("part"), "chunk")

            self.assertTrue(hasattr(training_grpc, "TrainingServiceStub"))
            self.assertTrue(hasattr(training_grpc, "TrainingServiceServicer"))


class ApiRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR"))
        cls.api = Api(cls.tmp.name)
        with open("docs/api.md", encoding="utf-8") as f:
            cls.doc = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_packages_are_versioned(self):
        for f in self.api.files:
            self.assertRegex(f.package, r"^stamina(\.internal)?\.v\d+$", f.name)
            self.assertEqual(f.syntax, "proto3", f.name)

    def test_every_rpc_has_its_own_request_and_response(self):
        request_users, response_users = {}, {}
        for f, path, service in self.api.services():
            for j, method in enumerate(service.method):
                where = service.name + "." + method.name
                request = method.input_type.rsplit(".", 1)[1]
                response = method.output_type.rsplit(".", 1)[1]
                self.assertEqual(request, method.name + "Request", where)
                request_users.setdefault(method.input_type, []).append(where)
                if response == method.name + "Response":
                    response_users.setdefault(method.output_type, []).append(where)
                    continue
                # Otherwise AIP-131/133/136: a resource, or what a Get names.
                resource = any(
                    full == method.output_type[1:] and self.api.is_resource(mf, mp)
                    for mf, mp, _, full in self.api.messages())
                got_noun = method.name.startswith("Get") and response == method.name[3:]
                self.assertTrue(resource or got_noun,
                                where + " returns " + response)
        for users in list(request_users.values()) + list(response_users.values()):
            self.assertEqual(len(users), 1, "message shared by " + ", ".join(users))

    def test_list_methods_paginate(self):
        messages = {full: m for _, _, m, full in self.api.messages()}
        for _, _, service in self.api.services():
            for method in service.method:
                if not method.name.startswith("List"):
                    continue
                request = {f.name: f for f in messages[method.input_type[1:]].field}
                response = {f.name for f in messages[method.output_type[1:]].field}
                where = service.name + "." + method.name
                self.assertIn("page_size", request, where)
                self.assertEqual(request["page_size"].type, 5, where)  # int32
                self.assertIn("page_token", request, where)
                self.assertIn("next_page_token", response, where)

    def test_enums_start_with_unspecified_and_prefix_their_values(self):
        for _, _, enum, full in self.api.enums():
            prefix = upper_snake(enum.name) + "_"
            self.assertEqual(enum.value[0].number, 0, full)
            self.assertEqual(enum.value[0].name, prefix + "UNSPECIFIED", full)
            for value in enum.value:
                self.assertTrue(value.name.startswith(prefix),
                                full + "." + value.name)

    def test_names_follow_style(self):
        for _, _, message, full in self.api.messages():
            self.assertRegex(message.name, r"^[A-Z][A-Za-z0-9]*$", full)
            for field in message.field:
                self.assertRegex(field.name, r"^[a-z][a-z0-9_]*$",
                                 full + "." + field.name)
                self.assertFalse(field.proto3_optional,
                                 full + "." + field.name +
                                 ": proto3 optional breaks grpc_tools 1.14")

    def test_everything_is_commented(self):
        missing = []
        for f, path, service in self.api.services():
            if not self.api.comment(f, path):
                missing.append(service.name)
            for j, method in enumerate(service.method):
                if not self.api.comment(f, path + (2, j)):
                    missing.append(service.name + "." + method.name)
        for f, path, message, full in self.api.messages():
            plain_io = message.name.endswith(("Request", "Response"))
            if not plain_io and not self.api.comment(f, path):
                missing.append(full)
            for k, field in enumerate(message.field):
                if not self.api.comment(f, path + (2, k)):
                    missing.append(full + "." + field.name)
        for f, path, enum, full in self.api.enums():
            if not self.api.comment(f, path):
                missing.append(full)
            for k, value in enumerate(enum.value):
                if not self.api.comment(f, path + (2, k)):
                    missing.append(full + "." + value.name)
        self.assertEqual(missing, [], "uncommented API elements")

    def test_request_and_resource_fields_state_their_behaviour(self):
        missing = []
        for f, path, message, full in self.api.messages():
            if not (message.name.endswith("Request")
                    or self.api.is_resource(f, path)
                    or full.split(".")[-2].endswith("Request")):
                continue
            for k, field in enumerate(message.field):
                if field.HasField("oneof_index"):
                    continue  # the oneof as a whole is described
                comment = self.api.comment(f, path + (2, k))
                if not comment.startswith(FIELD_BEHAVIOURS):
                    missing.append(full + "." + field.name)
        self.assertEqual(missing, [], "fields without Required/Optional/"
                         "Output only/Immutable")

    def test_rpcs_document_their_errors(self):
        for f, path, service in self.api.services():
            for j, method in enumerate(service.method):
                comment = self.api.comment(f, path + (2, j))
                if method.name in ("GetCapabilities", "GetStatus"):
                    continue  # only the common errors apply
                self.assertIn("Errors:", comment, service.name + "." + method.name)

    def test_docs_cover_every_rpc_message_and_enum_value(self):
        missing = []
        for _, _, service in self.api.services():
            if service.name not in self.doc:
                missing.append(service.name)
            for method in service.method:
                heading = "### %s.%s" % (service.name, method.name)
                if not re.search("^" + re.escape(heading) + r"\s*$", self.doc,
                                 re.MULTILINE):
                    missing.append(heading)
        for _, _, message, _ in self.api.messages():
            if "`" + message.name + "`" not in self.doc and \
               "." + message.name + "`" not in self.doc:
                missing.append("message " + message.name)
        for _, _, enum, _ in self.api.enums():
            for value in enum.value:
                if value.name not in self.doc:
                    missing.append("enum value " + value.name)
        self.assertEqual(missing, [], "docs/api.md does not mention these")

    def test_docs_mention_no_rpc_that_does_not_exist(self):
        known = {"%s.%s" % (s.name, m.name)
                 for _, _, s in self.api.services() for m in s.method}
        for heading in re.findall(r"^### (\w+\.\w+)\s*$", self.doc, re.MULTILINE):
            self.assertIn(heading, known, "docs/api.md documents " + heading)


if __name__ == "__main__":
    unittest.main(verbosity=2)
