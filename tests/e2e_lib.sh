# Sourced by the end-to-end shell tests (the real binaries over loopback):
#   source tests/e2e_lib.sh
# (an sh_test runs in its runfiles tree, where this file is, through the
# :e2e_lib sh_library).
#
#   free_port                  a TCP port free on 127.0.0.1 now
#   await_line FILE RE PID     waits up to 30 s for a line matching RE in FILE,
#                              which process PID writes once it is ready;
#                              status 1 when PID exits first or time runs out
#   staminad_key LOG PID KEYFILE
#                              awaits the `serving` line staminad writes to
#                              its stderr LOG once it serves, and prints the
#                              --bootstrap_tenant key it wrote to KEYFILE
#                              (DATA_DIR/bootstrap-TENANT.key); status 1 as
#                              await_line
#   start_staminad TENANT [FLAG...]
#                              starts $STAMINAD on a free port ($PORT) with a
#                              fresh data dir under $TEST_TMPDIR, no base model
#                              files (random stamina-tiny-v1 weights),
#                              --bootstrap_tenant=TENANT and the FLAGs; sets SERVER (its pid,
#                              stopped on EXIT) and KEY; status 1 (stderr shown)
#                              when it does not start, or when the key reached
#                              its stdout/stderr or its file is not mode 600
#   render_concept MODEL ID KIND [SEED]
#                              renders 3 images of a reserved KIND (face,
#                              landmark) identity (SEED picks it; default
#                              1000000) into $T/ID, creates
#                              the concept ID (token <ID>, caption
#                              'a photo of {}') under MODEL and uploads them,
#                              with the caller's $RENDER, $T, cli and fail
#   secret_file FILE TEXT      writes TEXT to FILE, readable by its owner only
#                              (internal tokens files, token files)
#   await_training MODEL JOB   polls `cli jobs get` (30 s at most) until the
#                              job reports a training step; status 1 if never
#                              (the caller's cli writes $OUT)
#   restartable_staminad TENANT
#                              for tests that stop and restart staminad on one
#                              data dir: defines start N / stop (stopped on
#                              EXIT), cli and fail (below)

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

secret_file() {
  (umask 077 && printf '%s\n' "$2" > "$1")
}

await_line() {
  local _
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

staminad_key() {
  await_line "$1" '^staminad: serving ' "$2" || return 1
  cat "$3"
}

start_staminad() {
  PORT="$(free_port)"
  "${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${TEST_TMPDIR}/data" \
    --bootstrap_tenant="$1" --base_model_dir="${TEST_TMPDIR}/no-model" "${@:2}" \
    > "${TEST_TMPDIR}/staminad.out" 2> "${TEST_TMPDIR}/staminad.err" &
  SERVER=$!
  trap 'kill -TERM ${SERVER} 2>/dev/null || true; wait ${SERVER} 2>/dev/null || true' EXIT
  KEY="$(staminad_key "${TEST_TMPDIR}/staminad.err" "${SERVER}" \
    "${TEST_TMPDIR}/data/bootstrap-$1.key")" \
    || { cat "${TEST_TMPDIR}/staminad.err"; return 1; }
  # The secret went to the key file only, never to staminad's output.
  if grep -qF "${KEY}" "${TEST_TMPDIR}/staminad.out" "${TEST_TMPDIR}/staminad.err"; then
    echo "the bootstrap API key reached staminad's stdout/stderr"; return 1
  fi
  test "$(stat -c %a "${TEST_TMPDIR}/data/bootstrap-$1.key")" = 600 \
    || { echo "the bootstrap key file is not mode 600"; return 1; }
}

render_concept() {
  local model="$1" id="$2" kind="$3" seed="${4:-1000000}"
  mkdir -p "${T}/${id}"
  "${RENDER}" --kind="${kind}" --seed="${seed}" --count=1 --renders=3 --out_dir="${T}/${id}" \
    > /dev/null || fail "render ${id}"
  cli concepts create "${model}" "${id}" "<${id}>" --caption='a photo of {}' \
    || fail "concepts create ${id}"
  cli upload "${model}" "${id}" "${T}/${id}" || fail "upload ${id}"
}

await_training() {
  local _
  for _ in $(seq 1 300); do
    cli jobs get "$1" "$2" || return 1
    grep -q "RUNNING TRAINING step [1-9]" "${OUT}" && return 0
    sleep 0.1
  done
  return 1
}

# For tests that stop and restart staminad on one data directory (PORT, T,
# STAMINAD and STAMINA set; OUT is where cli writes): `start N` runs
# staminad N on the stamina-test-tiny base with tenant $1 of
# restartable_staminad, `stop` ends it, `cli` runs the CLI against it and
# `fail` prints what there is to see and exits.
restartable_staminad() {
  RESTART_TENANT="$1"
  SERVER=""
  trap stop EXIT
}
start() {
  "${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data" \
    --bootstrap_tenant="${RESTART_TENANT}" --base_model=stamina-test-tiny \
    --base_model_dir="${T}/no-model" --torch_threads=1 \
    > "${T}/staminad-$1.out" 2> "${T}/staminad-$1.err" &
  SERVER=$!
  STAMINA_API_KEY="$(staminad_key "${T}/staminad-$1.err" "${SERVER}" \
    "${T}/data/bootstrap-${RESTART_TENANT}.key")" || { cat "${T}/staminad-$1.err"; return 1; }
  export STAMINA_API_KEY
}
stop() {
  kill -TERM "${SERVER}" 2>/dev/null || true
  wait "${SERVER}" 2>/dev/null || true
}
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${T}/cli.err"; }
fail() {
  echo "FAIL: $*"; cat "${OUT}" "${T}/cli.err"
  for f in "${T}"/staminad-*.err; do echo "--- ${f}"; tail -40 "${f}"; done
  exit 1
}
