#!/usr/bin/env bash
# Webhooks end to end with the real staminad and the Python SDK:
#   - a loopback webhook URL is INVALID_ARGUMENT (naming webhook_url) on a
#     server without --webhook_allow_private_targets;
#   - with the flag, a job trains while its receiver is down, staminad is
#     stopped before any delivery succeeded, the receiver comes up, staminad
#     restarts on the same data directory, and the receiver then gets every
#     event (job.queued, job.running, job.succeeded), in that order, with a
#     signature that verifies with the tenant's secret
#     (stamina_client.verify_webhook).
set -euo pipefail
STAMINAD="$1"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh
export STAMINA_STUBS_DIR="${T}/stubs"
export PYTHONPATH="$(pwd)/client_examples/python"
fail() {
  echo "FAIL: $*"
  for f in "${T}"/staminad-*.err "${T}"/receiver.err; do
    [[ -f "${f}" ]] && { echo "--- ${f}"; cat "${f}"; }
  done
  exit 1
}

PORT="$(free_port)"
HOOK_PORT="$(free_port)"  # nothing listens there until the receiver starts
SERVER=""
RECEIVER=""
start() {  # start NAME FLAGS...
  "${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data-$2" --bootstrap_tenant=hooks \
    --base_model_dir="${T}/no-model" --torch_threads=1 "${@:3}" \
    > "${T}/staminad-$1.out" 2> "${T}/staminad-$1.err" &
  SERVER=$!
  STAMINA_API_KEY="$(staminad_key "${T}/staminad-$1.err" "${SERVER}" "${T}/data-$2/bootstrap-hooks.key")" \
    || return 1
  export STAMINA_API_KEY STAMINA_ADDRESS="127.0.0.1:${PORT}"
}
stop() {
  kill -TERM "${SERVER}" 2>/dev/null || true
  wait "${SERVER}" 2>/dev/null || true
}
cleanup() {
  stop
  [[ -n "${RECEIVER}" ]] && kill "${RECEIVER}" 2>/dev/null || true
}
trap cleanup EXIT
export HOOK_URL="http://127.0.0.1:${HOOK_PORT}/hook"

# 1. Without the flag a loopback target is refused, naming the field.
start strict strict || fail "staminad (strict) did not start"
/usr/bin/python3 - <<'PY' || fail "loopback URL accepted"
import os
import stamina_client
with stamina_client.Client(os.environ["STAMINA_ADDRESS"], os.environ["STAMINA_API_KEY"]) as c:
    try:
        c.create_model("m", webhook_url=os.environ["HOOK_URL"])
        raise SystemExit("CreateModel accepted a loopback webhook_url")
    except stamina_client.InvalidArgumentError as e:
        assert e.field == "model.webhook_url", e
    c.create_model("m")
    try:
        c.train("models/m/concepts/none", steps=5, webhook_url=os.environ["HOOK_URL"])
        raise SystemExit("TrainConcept accepted a loopback webhook_url")
    except stamina_client.InvalidArgumentError as e:
        assert e.field == "webhook_url", e
PY
stop

# 2. A job trains and ends while its receiver is down.
FLAGS=(--webhook_allow_private_targets --webhook_initial_backoff_ms=200)
start first hooks "${FLAGS[@]}" || fail "staminad did not start"
/usr/bin/python3 - "${T}/secret" "${T}/job" <<'PY' || fail "training with a webhook"
import os, sys
import stamina_client
with stamina_client.Client(os.environ["STAMINA_ADDRESS"], os.environ["STAMINA_API_KEY"]) as c:
    with open(sys.argv[1], "w") as f:
        f.write(c.webhook_secret())
    caps = c.capabilities()
    side = caps.base_models[0].resolution
    c.create_model("family", webhook_url=os.environ["HOOK_URL"])
    photos = c.sample("family", "a person", seed=3, width=side, height=side,
                      image_count=caps.limits.min_images_per_concept)
    anna = c.create_concept("family", "anna", token="<anna>")
    c.upload_images(anna.name, [(f"{i}.png", p.png) for i, p in enumerate(photos)])
    job = c.train(anna.name, steps=5)  # the model's URL
    assert job.webhook_url == os.environ["HOOK_URL"], job.webhook_url
    done = c.wait(job.name)
    with open(sys.argv[2], "w") as f:
        f.write(done.name)
PY
stop  # the events are still in the outbox: nothing was listening

# 3. The receiver comes up; staminad restarts on the same data; every event arrives.
/usr/bin/python3 - "${HOOK_PORT}" "$(cat "${T}/secret")" "${T}/events" \
  > "${T}/receiver.out" 2> "${T}/receiver.err" <<'PY' &
import http.server, sys
import stamina_client
port, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            event = stamina_client.verify_webhook(secret, dict(self.headers), body)
        except stamina_client.WebhookVerificationError as e:
            print("refused:", e, file=sys.stderr, flush=True)
            self.send_response(401); self.end_headers(); return
        with open(out, "a") as f:
            f.write(f'{self.headers["webhook-id"]} {event["type"]} {event["data"]["job"]}\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
RECEIVER=$!
start second hooks "${FLAGS[@]}" || fail "staminad did not restart"
JOB="$(cat "${T}/job")"
for _ in $(seq 1 300); do
  if [[ -f "${T}/events" ]] && [[ "$(cut -d' ' -f2 "${T}/events" | sort -u | tr '\n' ' ')" == "job.queued job.running job.succeeded " ]]; then
    break
  fi
  sleep 0.1
done
[[ -f "${T}/events" ]] || fail "no event arrived"
cat "${T}/events"
# One job's events arrive in order; deduplicated by webhook-id: exactly the
# three state changes, all of this job.
[[ "$(awk '!seen[$1]++ {print $2}' "${T}/events" | tr '\n' ' ')" == "job.queued job.running job.succeeded " ]] \
  || fail "events out of order"
[[ "$(sort -u "${T}/events" | cut -d' ' -f1 | sort -u | wc -l)" == 3 ]] || fail "not 3 distinct events"
[[ "$(cut -d' ' -f2 "${T}/events" | sort -u | tr '\n' ' ')" == "job.queued job.running job.succeeded " ]] \
  || fail "missing event types"
[[ "$(cut -d' ' -f3 "${T}/events" | sort -u)" == "${JOB}" ]] || fail "events of another job"
grep -q "refused" "${T}/receiver.err" && fail "a signature did not verify"
echo "webhooks OK"
