// Starts a real staminad for the tests: a free loopback port, a fresh data
// directory, random stamina-tiny-v1 weights (no base model files) and a
// bootstrap tenant whose API key staminad writes to a mode-600 file.
//
// STAMINAD names the binary; by default the one `bazel build //app:staminad`
// (or `./stamina.sh test`) left in bazel-bin.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const STAMINAD =
  process.env.STAMINAD ?? resolve(here, '..', '..', '..', '..', 'bazel-bin', 'app', 'staminad');

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export async function startStaminad({ tenant = 'nodetest', flags = [] } = {}) {
  const dir = mkdtempSync(join(process.env.TEST_TMPDIR ?? tmpdir(), 'stamina-node-'));
  const port = await freePort();
  const child = spawn(
    STAMINAD,
    [
      `--listen=127.0.0.1:${port}`,
      `--data_dir=${dir}/data`,
      `--bootstrap_tenant=${tenant}`,
      `--base_model_dir=${dir}/no-model`,
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`staminad did not serve in 60 s:\n${stderr}`)), 60_000);
    child.stderr.on('data', (data) => {
      stderr += data;
      if (/^staminad: serving /m.test(stderr)) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`staminad exited (${code}) before serving:\n${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  const key = readFileSync(`${dir}/data/bootstrap-${tenant}.key`, 'utf8').trim();
  return {
    address: `127.0.0.1:${port}`,
    key,
    dir,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Real PNGs for a concept: as many samples of the base model (through
 * `model`, which exists) as a concept needs at least, at its native size.
 */
export async function basePhotos(client, model, { prompt = 'a photo of a person', seed = 1 } = {}) {
  const caps = await client.capabilities();
  const base = caps.baseModels[0];
  return client.sample({
    model,
    prompt,
    imageCount: caps.limits.minImagesPerConcept,
    width: base.resolution,
    height: base.resolution,
    steps: caps.limits.minSampleSteps,
    seed,
  });
}
