// ExportModel's chunk stream written into a directory, each path checked to
// stay inside it.
import { constants } from 'node:fs';
import { mkdir, open, realpath, FileHandle } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';

import type * as grpc from '@grpc/grpc-js';

import type { ExportModelResponse__Output } from './generated/stamina/v1/ExportModelResponse';

export interface ExportedFile {
  path: string;
  bytes: number;
}

export async function writeExport(
  call: grpc.ClientReadableStream<ExportModelResponse__Output>,
  outDir: string,
  signal: AbortSignal | undefined,
  typed: (error: unknown) => unknown,
): Promise<{ version: string; files: ExportedFile[] }> {
  const root = resolve(outDir);
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const files = new Map<string, { handle: FileHandle; bytes: number }>();
  let version = '';
  const onAbort = () => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const response of call as AsyncIterable<ExportModelResponse__Output>) {
      if (response.version) version = response.version;
      const chunk = response.chunk;
      if (!chunk) continue;
      let file = files.get(chunk.path);
      if (file === undefined) {
        const target = resolve(root, chunk.path);
        if (!target.startsWith(root + sep)) {
          throw new Error(`export: the server sent a path outside ${root}: ${chunk.path}`);
        }
        await mkdir(dirname(target), { recursive: true });
        // A symlinked folder inside outDir must not lead outside it, and the
        // file itself is never followed if it is a link.
        const realDir = await realpath(dirname(target));
        if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) {
          throw new Error(`export: ${chunk.path} leads outside ${root} through a link`);
        }
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
        file = { handle: await open(target, flags, 0o644), bytes: 0 };
        files.set(chunk.path, file);
      }
      await file.handle.write(chunk.data, 0, chunk.data.byteLength, Number(chunk.offset));
      file.bytes += chunk.data.byteLength;
    }
  } catch (error) {
    call.cancel();
    throw typed(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const file of files.values()) await file.handle.close();
  }
  return {
    version,
    files: [...files.entries()].map(([path, file]) => ({ path, bytes: file.bytes })),
  };
}
