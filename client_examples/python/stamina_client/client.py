"""Client: the stamina.v1 API (docs/api.md) for Python backends and scripts.

One Client holds one gRPC channel and is safe to share between threads.
Every call sends the API key as `authorization: Bearer <key>`, has a
deadline, and raises a typed StaminaError (errors.py). Calls that are safe
to repeat (reads, creates with an idempotency key, which the client makes
when the caller gives none, uploads, which the server deduplicates, and
samples) are retried with exponential back-off and jitter on UNAVAILABLE,
RESOURCE_EXHAUSTED and INTERNAL, and creates also on DEADLINE_EXCEEDED.
"""

import hashlib
import os
import random
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from stamina_client import errors
from stamina_client._stubs import (concept_pb2, concept_service_pb2, concept_service_pb2_grpc,
                                   job_pb2, model_pb2, model_service_pb2, model_service_pb2_grpc,
                                   sampler_service_pb2, sampler_service_pb2_grpc,
                                   training_service_pb2, training_service_pb2_grpc)
from stamina_client.progress import Bar

CHUNK_BYTES = 256 << 10
_TERMINAL = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED)
_RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.INTERNAL)

# An image to upload: a path, or (filename, bytes), or (filename, bytes, caption).
ImageSource = Union[str, os.PathLike, Tuple[str, bytes], Tuple[str, bytes, str]]


@dataclass(frozen=True)
class SampledImage:
    index: int
    png: bytes
    width: int
    height: int
    seed: int
    version: str


def model_name(name: str) -> str:
    """"m" and "models/m" both name models/m."""
    return name if name.startswith("models/") else f"models/{name}"


class Client:
    def __init__(self, address: str, api_key: str, *, tls: Union[bool, bytes, None] = None,
                 server_name: Optional[str] = None, timeout: float = 30.0,
                 max_attempts: int = 4, initial_backoff: float = 0.25, max_backoff: float = 5.0):
        """tls: True trusts the system's CAs, bytes is a PEM CA bundle; leave it
        out only on loopback. timeout: seconds per unary call."""
        if not address or not api_key:
            raise ValueError("address and api_key are required")
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if tls:
            credentials = grpc.ssl_channel_credentials(tls if isinstance(tls, bytes) else None)
            self._channel = grpc.secure_channel(address, credentials, options)
        else:
            self._channel = grpc.insecure_channel(address, options)
        self._metadata = (("authorization", f"Bearer {api_key}"),)
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self.models = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self.concepts = concept_service_pb2_grpc.ConceptServiceStub(self._channel)
        self.training = training_service_pb2_grpc.TrainingServiceStub(self._channel)
        self.sampler = sampler_service_pb2_grpc.SamplerServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- Capabilities and models ------------------------------------------

    def capabilities(self):
        return self._unary(self.sampler.GetCapabilities,
                           sampler_service_pb2.GetCapabilitiesRequest(), "read")

    def create_model(self, model_id: str, *, display_name: str = "", base_model: str = "",
                     webhook_url: str = "", request_id: Optional[str] = None):
        """Creates models/{model_id}; the base model defaults to the server's first.
        webhook_url: where its jobs' state changes are POSTed (signed)."""
        if not base_model:
            bases = self.capabilities().base_models
            if not bases:
                raise errors.FailedPreconditionError(grpc.StatusCode.FAILED_PRECONDITION,
                                                     "the server has no base model")
            base_model = bases[0].name
        request = model_service_pb2.CreateModelRequest(
            model=model_pb2.Model(display_name=display_name, base_model=base_model,
                                  webhook_url=webhook_url),
            model_id=model_id, request_id=request_id or str(uuid.uuid4()))
        return self._unary(self.models.CreateModel, request, "create")

    def fork_model(self, source_version: str, model_id: str, *, display_name: str = "",
                   webhook_url: str = "", request_id: Optional[str] = None):
        """A new model that starts at source_version ("models/m/versions/3"),
        sharing its concepts, images and adapters (nothing is retrained)."""
        request = model_service_pb2.ForkModelRequest(
            source_version=source_version, model_id=model_id,
            model=model_pb2.Model(display_name=display_name, webhook_url=webhook_url),
            request_id=request_id or str(uuid.uuid4()))
        return self._unary(self.models.ForkModel, request, "create")

    def get_model(self, name: str):
        return self._unary(self.models.GetModel,
                           model_service_pb2.GetModelRequest(name=model_name(name)), "read")

    def list_models(self) -> Iterator:
        return self._pages(lambda token: self._unary(
            self.models.ListModels, model_service_pb2.ListModelsRequest(page_token=token),
            "read"), "models")

    def delete_model(self, name: str):
        return self._unary(self.models.DeleteModel,
                           model_service_pb2.DeleteModelRequest(name=model_name(name)), "none")

    def list_versions(self, model: str) -> Iterator:
        return self._pages(lambda token: self._unary(
            self.models.ListVersions, model_service_pb2.ListVersionsRequest(
                parent=model_name(model), page_token=token), "read"), "versions")

    def lineage(self, name: str):
        """The ordered concepts of a model's head, or of a version's name."""
        return self._unary(self.models.GetLineage,
                           model_service_pb2.GetLineageRequest(name=model_name(name)), "read")

    def rollback(self, model: str, version: str):
        return self._unary(self.models.RollbackModel, model_service_pb2.RollbackModelRequest(
            name=model_name(model), version=version), "read")

    # ---- Concepts and images ----------------------------------------------

    def create_concept(self, model: str, concept_id: str, *, token: str, display_name: str = "",
                       caption_templates: Sequence[str] = (), request_id: Optional[str] = None):
        """Creates models/{model}/concepts/{concept_id}, learned in its own new token."""
        request = concept_service_pb2.CreateConceptRequest(
            parent=model_name(model), concept_id=concept_id,
            concept=concept_pb2.Concept(token=token, display_name=display_name,
                                        caption_templates=list(caption_templates)),
            request_id=request_id or str(uuid.uuid4()))
        return self._unary(self.concepts.CreateConcept, request, "create")

    def get_concept(self, name: str):
        return self._unary(self.concepts.GetConcept,
                           concept_service_pb2.GetConceptRequest(name=name), "read")

    def list_concepts(self, model: str) -> Iterator:
        return self._pages(lambda token: self._unary(
            self.concepts.ListConcepts, concept_service_pb2.ListConceptsRequest(
                parent=model_name(model), page_token=token), "read"), "concepts")

    def delete_concept(self, name: str, *, force: bool = False):
        return self._unary(self.concepts.DeleteConcept,
                           concept_service_pb2.DeleteConceptRequest(name=name, force=force), "none")

    def erase_concept(self, name: str, *, mode: Optional[str] = None,
                      request_id: Optional[str] = None):
        """Erases a trained concept for good and keeps the others: its images
        and every version containing it go at once; mode "replay" queues the
        later concepts to train again (response.erasure.replay_jobs: wait on
        them as on any job), "drop" leaves them DRAFT; None: the account's
        erasure policy decides (replay unless set to drop only)."""
        modes = {None: model_pb2.ERASURE_MODE_UNSPECIFIED, "replay": model_pb2.ERASURE_MODE_REPLAY,
                 "drop": model_pb2.ERASURE_MODE_DROP}
        if mode not in modes:
            raise ValueError(f'mode: "{mode}" is not "replay" or "drop"')
        request = concept_service_pb2.EraseConceptRequest(
            name=name, mode=modes[mode], request_id=request_id or str(uuid.uuid4()))
        return self._unary(self.concepts.EraseConcept, request, "create")

    def get_erasure(self, name: str):
        return self._unary(self.concepts.GetErasure,
                           concept_service_pb2.GetErasureRequest(name=name), "read")

    def list_erasures(self, model: str) -> Iterator:
        return self._pages(lambda token: self._unary(
            self.concepts.ListErasures,
            concept_service_pb2.ListErasuresRequest(parent=model_name(model), page_token=token),
            "read"), "erasures")

    def upload_images(self, concept: str, images: Iterable[ImageSource], *,
                      skip_invalid: bool = False, progress: Optional[bool] = None,
                      on_progress: Optional[Callable[[int, int, str], None]] = None):
        """Streams images into a DRAFT concept. progress=None draws a bar on a
        terminal; on_progress(sent_bytes, total_bytes, filename) sees every chunk.
        Retried whole on UNAVAILABLE: the server reports repeats as DUPLICATE."""
        loaded = [_load(image) for image in images]
        total = sum(len(data) for _, data, _ in loaded)

        def requests(bar: Bar):
            yield concept_service_pb2.UploadImagesRequest(
                header=concept_service_pb2.UploadImagesRequest.Header(
                    parent=concept, skip_invalid=skip_invalid))
            sent = 0
            for filename, data, caption in loaded:
                yield concept_service_pb2.UploadImagesRequest(
                    image_start=concept_service_pb2.UploadImagesRequest.ImageStart(
                        filename=filename, caption=caption, size_bytes=len(data),
                        sha256=hashlib.sha256(data).hexdigest()))
                for offset in range(0, len(data), CHUNK_BYTES):
                    chunk = data[offset:offset + CHUNK_BYTES]
                    yield concept_service_pb2.UploadImagesRequest(chunk=chunk)
                    sent += len(chunk)
                    bar.update(sent, note=filename)
                    if on_progress:
                        on_progress(sent, total, filename)

        def attempt():
            bar = Bar("upload", total, "B", enabled=progress)
            try:
                return self.concepts.UploadImages(requests(bar), metadata=self._metadata,
                                                  timeout=10 * self._timeout)
            finally:
                bar.close()

        return self._retrying(attempt, "read")

    # ---- Training ---------------------------------------------------------

    def train(self, concept: str, settings: Optional[job_pb2.TrainingSettings] = None, *,
              webhook_url: str = "", request_id: Optional[str] = None, **fields):
        """Queues a job teaching the concept to the model's head. Settings are a
        TrainingSettings or its fields as keywords (steps=..., method=...);
        webhook_url receives the job's state changes (else the model's)."""
        if settings is None:
            settings = job_pb2.TrainingSettings(**fields)
        request = training_service_pb2.TrainConceptRequest(
            parent=concept.split("/concepts/")[0], concept=concept, settings=settings,
            webhook_url=webhook_url, request_id=request_id or str(uuid.uuid4()))
        return self._unary(self.training.TrainConcept, request, "create")

    def webhook_secret(self) -> str:
        """The tenant's webhook signing secret ("whsec_..."; webhooks.verify_webhook)."""
        return self._unary(self.training.GetWebhookSecret,
                           training_service_pb2.GetWebhookSecretRequest(), "read").secret

    def rotate_webhook_secret(self) -> str:
        """Replaces the secret; later deliveries are signed with the new one."""
        return self._unary(self.training.RotateWebhookSecret,
                           training_service_pb2.RotateWebhookSecretRequest(), "none").secret

    def get_job(self, name: str):
        return self._unary(self.training.GetJob, training_service_pb2.GetJobRequest(name=name),
                           "read")

    def cancel_job(self, name: str):
        return self._unary(self.training.CancelJob,
                           training_service_pb2.CancelJobRequest(name=name), "none")

    def retry_job(self, name: str):
        return self._unary(self.training.RetryJob,
                           training_service_pb2.RetryJobRequest(name=name), "none")

    def watch(self, job: str, *, min_interval_ms: int = 0) -> Iterator:
        """Yields the job's snapshots as they change, the last one terminal.
        A broken stream is reopened with back-off; the first snapshot after a
        reconnect is the current state."""
        failures = 0
        while True:
            call = self.training.WatchJob(training_service_pb2.WatchJobRequest(
                name=job, min_interval_ms=min_interval_ms), metadata=self._metadata)
            try:
                for update in call:
                    failures = 0
                    yield update.job
                    if update.job.state in _TERMINAL:
                        return
                # Ended before a final state: a broken connection (a proxy
                # closing idle streams); reconnect after a back-off.
                failures += 1
                if failures >= 3 * self._max_attempts:
                    raise errors.UnavailableError(grpc.StatusCode.UNAVAILABLE,
                                                  f"{job}: the watch kept ending early")
                self._sleep(failures)
            except grpc.RpcError as error:
                typed = errors.from_rpc_error(error)
                failures += 1
                if typed.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL) \
                        or failures >= 3 * self._max_attempts:
                    raise typed from None
                self._sleep(failures)
            finally:
                call.cancel()

    def wait(self, job: str, *, progress: Optional[bool] = None,
             on_update: Optional[Callable] = None):
        """Waits for the job to end; returns it SUCCEEDED (result_version is the
        new head) or raises JobFailedError. progress=None: a bar on a terminal."""
        bar = Bar("train", 1.0, None, enabled=progress)
        last = None
        try:
            for last in self.watch(job, min_interval_ms=250):
                if on_update:
                    on_update(last)
                p = last.progress
                fraction = 1.0 if last.state == job_pb2.JOB_STATE_SUCCEEDED else (
                    p.fraction_done or (p.step / p.total_steps if p.total_steps else 0.0))
                bar.update(fraction, note=_job_note(last))
        finally:
            bar.close()
        if last is None or last.state != job_pb2.JOB_STATE_SUCCEEDED:
            raise errors.JobFailedError(last)
        return last

    # ---- Sampling ---------------------------------------------------------

    def compare_versions(self, model: str, version_b: str, *, version_a: str = "",
                         prompts: Iterable[str] = (), image_count: int = 0, steps: int = 0,
                         seed: int = 0):
        """Samples the same prompts and seeds from two versions (A: the head
        by default); each comparison has both versions' images and the pixel
        drift (0 = the same images). Without prompts, one per concept token."""
        request = sampler_service_pb2.CompareVersionsRequest(
            model=model_name(model), version_a=version_a, version_b=version_b,
            prompts=list(prompts), image_count=image_count, steps=steps, seed=seed)
        return self._unary(self.sampler.CompareVersions, request, "read")

    def sample(self, model: str, prompt: str, *, progress: Optional[bool] = None,
               on_progress: Optional[Callable] = None, **fields) -> List[SampledImage]:
        """Samples a model's head (or version=...) as PNG bytes; other fields
        (image_count, steps, seed, width, height, ...) as keywords."""
        request = sampler_service_pb2.SampleRequest(model=model_name(model), prompt=prompt,
                                                    **fields)

        def attempt():
            bar = Bar("sample", max(request.steps, 1), enabled=progress)
            images = []
            try:
                for response in self.sampler.Sample(request, metadata=self._metadata,
                                                    timeout=20 * self._timeout):
                    if response.HasField("progress"):
                        p = response.progress
                        bar.update(p.step, p.total_steps or None,
                                   note=sampler_service_pb2.SamplePhase.Name(p.phase)[13:])
                        if on_progress:
                            on_progress(p)
                    elif response.HasField("image"):
                        i = response.image
                        images.append(SampledImage(i.index, i.png, i.width, i.height, i.seed,
                                                   i.version))
            finally:
                bar.close()
            return images

        return self._retrying(attempt, "read")

    def export_model(self, model: str, out_dir: str, *, version: str = "",
                     adapters_only: bool = False, half_precision: bool = False):
        """Writes a version (the head by default) into out_dir: the folded
        diffusers checkpoint, or only the adapters. Paths the server sends are
        checked to stay inside out_dir. Returns (version, {path: bytes})."""
        request = sampler_service_pb2.ExportModelRequest(
            model=model_name(model), version=version, half_precision=half_precision,
            format=(sampler_service_pb2.EXPORT_FORMAT_ADAPTERS if adapters_only
                    else sampler_service_pb2.EXPORT_FORMAT_DIFFUSERS))
        root = os.path.realpath(out_dir)

        def attempt():
            exported_version, sizes = "", {}
            for response in self.sampler.ExportModel(request, metadata=self._metadata,
                                                     timeout=20 * self._timeout):
                exported_version = response.version or exported_version
                if not response.HasField("chunk"):
                    continue
                chunk = response.chunk
                target = os.path.realpath(os.path.join(root, chunk.path))
                if not target.startswith(root + os.sep):
                    raise ValueError(f"export: the server sent a path outside {root}: "
                                     f"{chunk.path}")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "r+b" if chunk.path in sizes else "wb") as f:
                    f.seek(chunk.offset)
                    f.write(chunk.data)
                sizes[chunk.path] = sizes.get(chunk.path, 0) + len(chunk.data)
            return exported_version, sizes

        return self._retrying(attempt, "read")

    # ---- Plumbing ---------------------------------------------------------

    def _unary(self, method, request, retry_class: str):
        return self._retrying(
            lambda: method(request, metadata=self._metadata, timeout=self._timeout), retry_class)

    def _retrying(self, attempt, retry_class: str):
        for n in range(1, self._max_attempts + 1):
            try:
                return attempt()
            except grpc.RpcError as error:
                typed = errors.from_rpc_error(error)
                retried = typed.code in _RETRIED or (
                    retry_class == "create" and typed.code == grpc.StatusCode.DEADLINE_EXCEEDED)
                if retry_class == "none" or not retried or n == self._max_attempts:
                    raise typed from None
                self._sleep(n)

    def _sleep(self, attempt: int) -> None:
        ceiling = min(self._max_backoff, self._initial_backoff * 2 ** (attempt - 1))
        time.sleep(random.uniform(0, ceiling))

    @staticmethod
    def _pages(fetch, field: str) -> Iterator:
        token = ""
        while True:
            page = fetch(token)
            yield from getattr(page, field)
            token = page.next_page_token
            if not token:
                return


def _load(image: ImageSource) -> Tuple[str, bytes, str]:
    if isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as f:
            return os.path.basename(os.fspath(image)), f.read(), ""
    if len(image) == 2:
        return image[0], bytes(image[1]), ""
    return image[0], bytes(image[1]), image[2]


def _job_note(job) -> str:
    state = job_pb2.JobState.Name(job.state)[10:]
    p = job.progress
    note = state
    if job.state == job_pb2.JOB_STATE_RUNNING:
        note += " " + job_pb2.JobPhase.Name(p.phase)[10:]
    if p.total_steps:
        note += f" step {p.step}/{p.total_steps}"
    if p.loss:
        note += f" loss {p.loss:.4f}"
    return note
