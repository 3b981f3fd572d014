"""The Python SDK against a real staminad (STAMINA_ADDRESS, STAMINA_API_KEY;
tests/python_sdk_test.sh starts one): the flow a backend runs, and the errors
it must raise as typed exceptions."""

import io
import os
import tempfile
import unittest

import stamina_client
from stamina_client import Client, job_pb2
from stamina_client.progress import Bar

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = Client(os.environ["STAMINA_ADDRESS"], os.environ["STAMINA_API_KEY"])
        cls.caps = cls.client.capabilities()
        cls.base = cls.caps.base_models[0]
        cls.steps = max(cls.caps.limits.min_training_steps, 5)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def photos(self, model, prompt, seed):
        return self.client.sample(
            model, prompt, image_count=self.caps.limits.min_images_per_concept,
            width=self.base.resolution, height=self.base.resolution,
            steps=self.caps.limits.min_sample_steps, seed=seed)

    def test_create_model_is_idempotent_with_the_same_request_id(self):
        first = self.client.create_model("idem", request_id="r-1")
        again = self.client.create_model("idem", request_id="r-1")
        self.assertEqual(first.name, again.name)
        self.assertEqual(first.create_time, again.create_time)
        with self.assertRaises(stamina_client.AlreadyExistsError):
            self.client.create_model("idem")

    def test_errors_are_typed_and_name_the_field(self):
        with self.assertRaises(stamina_client.NotFoundError):
            self.client.get_model("missing")
        with self.assertRaises(stamina_client.InvalidArgumentError) as raised:
            self.client.sample("missing", "a photo", steps=self.caps.limits.max_sample_steps + 1)
        self.assertEqual(raised.exception.field, "steps")
        self.assertIn("out of range", raised.exception.details)
        with Client(os.environ["STAMINA_ADDRESS"], "stk_wrong") as stranger:
            with self.assertRaises(stamina_client.UnauthenticatedError):
                list(stranger.list_models())

    def test_upload_train_watch_sample_lineage_rollback(self):
        self.client.create_model("family", display_name="Family")
        photos = self.photos("family", "a photo of a person", 11)
        anna = self.client.create_concept("family", "anna", token="<anna>",
                                          caption_templates=["a photo of {}"])
        seen = []
        uploaded = self.client.upload_images(
            anna.name, [(f"anna-{i}.png", p.png) for i, p in enumerate(photos)],
            on_progress=lambda sent, total, name: seen.append((sent, total)))
        self.assertEqual(uploaded.image_count, len(photos))
        total = sum(len(p.png) for p in photos)
        self.assertEqual(seen[-1], (total, total))
        self.assertEqual([s for s, _ in seen], sorted(set(s for s, _ in seen)))

        job = self.client.train(anna.name, steps=self.steps)
        self.assertEqual(job.state, job_pb2.JOB_STATE_QUEUED)
        updates = []
        done = self.client.wait(job.name, on_update=updates.append)
        self.assertEqual(done.state, job_pb2.JOB_STATE_SUCCEEDED)
        self.assertEqual(updates[-1].state, job_pb2.JOB_STATE_SUCCEEDED)
        self.assertEqual(self.client.get_model("family").head_version, done.result_version)

        phases = []
        image, = self.client.sample("family", "a photo of <anna>", seed=7, steps=4,
                                    on_progress=phases.append)
        self.assertEqual(image.png[:8], PNG_SIGNATURE)
        self.assertEqual((image.seed, image.version), (7, done.result_version))
        self.assertTrue(any(p.phase == stamina_client.sampler_service_pb2.SAMPLE_PHASE_DENOISING
                            for p in phases))
        same, = self.client.sample("family", "a photo of <anna>", seed=7, steps=4)
        self.assertEqual(same.png, image.png, "same seed, same bytes")

        # A file path works as well as bytes.
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, p in enumerate(self.photos("family", "a tower", 12)):
                paths.append(os.path.join(tmp, f"tower-{i}.png"))
                with open(paths[-1], "wb") as f:
                    f.write(p.png)
            tower = self.client.create_concept("family", "tower", token="<tower>")
            self.client.upload_images(tower.name, paths)
        second = self.client.wait(self.client.train(tower.name, steps=self.steps).name)
        lineage = self.client.lineage("family")
        self.assertEqual([(e.concept, e.token) for e in lineage.entries],
                         [("models/family/concepts/anna", "<anna>"),
                          ("models/family/concepts/tower", "<tower>")])
        self.assertEqual(sorted(v.name for v in self.client.list_versions("family")),
                         sorted([done.result_version, second.result_version]))

        with tempfile.TemporaryDirectory() as tmp:
            version, sizes = self.client.export_model("family", tmp, adapters_only=True)
            self.assertEqual(version, second.result_version)
            self.assertTrue(sizes)
            for path, size in sizes.items():
                self.assertEqual(os.path.getsize(os.path.join(tmp, path)), size)

        fork = self.client.fork_model(done.result_version, "family-v1")
        self.assertEqual(fork.forked_from, done.result_version)
        forked, = self.client.sample("family-v1", "a photo of <anna>", seed=7, steps=4)
        self.assertEqual(forked.png, image.png, "the fork draws what version 1 drew")
        self.assertEqual(self.client.lineage("family-v1").forked_from, done.result_version)

        self.assertEqual(self.client.rollback("family", done.result_version).head_version,
                         done.result_version)
        again, = self.client.sample("family", "a photo of <anna>", seed=7, steps=4)
        self.assertEqual(again.png, image.png, "the rolled-back head draws what v1 drew")

    def test_erase_concept_replays_the_later_one(self):
        model_pb2 = stamina_client.model_pb2
        self.client.create_model("erasing")
        photos = self.photos("erasing", "a photo of a person", 5)
        versions = []
        for concept_id in ("anna", "rex"):
            concept = self.client.create_concept("erasing", concept_id, token=f"<{concept_id}>")
            self.client.upload_images(
                concept.name, [(f"{concept_id}-{i}.png", p.png) for i, p in enumerate(photos)])
            versions.append(self.client.wait(
                self.client.train(concept.name, steps=self.steps).name).result_version)
        with self.assertRaises(ValueError):
            self.client.erase_concept("models/erasing/concepts/anna", mode="forget")
        response = self.client.erase_concept("models/erasing/concepts/anna")
        erasure = response.erasure
        self.assertEqual(erasure.token, "<anna>")
        self.assertEqual(erasure.state, model_pb2.ERASURE_STATE_REPLAYING)
        self.assertEqual([v.version for v in erasure.erased_versions], versions)
        self.assertEqual(list(response.erased.concepts), ["models/erasing/concepts/anna"])
        self.assertEqual(len(erasure.replay_jobs), 1)
        self.assertEqual(erasure.proof.prompt, "a photo of <anna>")
        self.assertGreater(erasure.proof.drift_before, 0)
        replayed = self.client.wait(erasure.replay_jobs[0])
        self.assertEqual(replayed.replay_of, versions[1])
        lineage = self.client.lineage("erasing")
        self.assertEqual([(e.token, e.replay_of) for e in lineage.entries],
                         [("<rex>", versions[1])])
        self.assertEqual(self.client.get_erasure(erasure.name).state,
                         model_pb2.ERASURE_STATE_SUCCEEDED)
        self.assertEqual([e.name for e in self.client.list_erasures("erasing")], [erasure.name])
        same = self.client.compare_versions("erasing", replayed.result_version, steps=2)
        self.assertEqual([(c.token, c.drift) for c in same.comparisons], [("<rex>", 0.0)])
        self.assertEqual(len(same.comparisons[0].images_b), 2)
        with self.assertRaises(stamina_client.NotFoundError) as raised:
            self.client.sample("erasing", "a photo of <rex>", version=versions[0], steps=2)
        self.assertIn("was erased by models/erasing/erasures/", str(raised.exception))

    def test_webhook_secret_is_stable_until_rotated(self):
        first = self.client.webhook_secret()
        self.assertTrue(first.startswith("whsec_"))
        self.assertEqual(self.client.webhook_secret(), first)
        rotated = self.client.rotate_webhook_secret()
        self.assertNotEqual(rotated, first)
        self.assertEqual(self.client.webhook_secret(), rotated)

    def test_a_failed_job_raises_job_failed_error(self):
        self.client.create_model("failing")
        concept = self.client.create_concept("failing", "mill", token="<mill>")
        self.client.upload_images(
            concept.name, [(f"m{i}.png", p.png) for i, p in
                           enumerate(self.photos("failing", "a mill", 3))])
        job = self.client.train(concept.name, steps=self.steps, token_initializer="zzqxv")
        with self.assertRaises(stamina_client.JobFailedError) as raised:
            self.client.wait(job.name)
        self.assertEqual(raised.exception.job.state, job_pb2.JOB_STATE_FAILED)
        self.assertRegex(str(raised.exception), "token_initializer|zzqxv")


class VerifyWebhookTest(unittest.TestCase):
    # The Standard Webhooks specification's example.
    SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    HEADERS = {"Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    BODY = b'{"test": 2432232314}'

    def test_accepts_the_specifications_example(self):
        event = stamina_client.verify_webhook(self.SECRET, self.HEADERS, self.BODY,
                                              now=1614265330 + 5)
        self.assertEqual(event, {"test": 2432232314})

    def test_refuses_tampering_and_replays(self):
        with self.assertRaisesRegex(stamina_client.WebhookVerificationError, "no signature"):
            stamina_client.verify_webhook(self.SECRET, self.HEADERS, b'{"test": 1}',
                                          now=1614265330)
        with self.assertRaisesRegex(stamina_client.WebhookVerificationError, "replay"):
            stamina_client.verify_webhook(self.SECRET, self.HEADERS, self.BODY,
                                          now=1614265330 + 3600)
        with self.assertRaisesRegex(stamina_client.WebhookVerificationError, "missing"):
            stamina_client.verify_webhook(self.SECRET, {}, self.BODY)
        forged = dict(self.HEADERS, **{"webhook-signature": "v1,\u00e9t\u00e9"})
        with self.assertRaisesRegex(stamina_client.WebhookVerificationError, "no signature"):
            stamina_client.verify_webhook(self.SECRET, forged, self.BODY, now=1614265330)
        # A str body is the same bytes.
        self.assertEqual(stamina_client.verify_webhook(self.SECRET, self.HEADERS,
                                                       self.BODY.decode(), now=1614265330),
                         {"test": 2432232314})


class BarTest(unittest.TestCase):
    def test_draws_on_a_terminal_only(self):
        quiet = io.StringIO()
        Bar("upload", 100, "B", enabled=None, stream=quiet).update(50)
        self.assertEqual(quiet.getvalue(), "")  # a StringIO is no terminal
        drawn = io.StringIO()
        bar = Bar("upload", 2048, "B", enabled=True, stream=drawn, width=4)
        bar.update(1024, note="a.png")
        bar.close()
        self.assertIn("\rupload [##..]  50% 1.0KiB/2.0KiB a.png", drawn.getvalue())
        self.assertTrue(drawn.getvalue().endswith("\n"))


if __name__ == "__main__":
    unittest.main()
