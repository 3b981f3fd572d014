// UploadImages as a client stream: a header, then per image an ImageStart
// (name, caption, size, SHA-256) and its bytes in chunks, with back-pressure
// and byte progress.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';

import type * as grpc from '@grpc/grpc-js';

import type { UploadImagesRequest } from './generated/stamina/v1/UploadImagesRequest';
import type { UploadImagesResponse__Output } from './generated/stamina/v1/UploadImagesResponse';

/** A file path, or bytes with the name the server should record. */
export type ImageSource =
  | string
  | { filename: string; data: Uint8Array; caption?: string }
  | { path: string; caption?: string };

export interface UploadProgress {
  /** Bytes of image data sent so far, and in all. */
  sentBytes: number;
  totalBytes: number;
  /** The image being sent (0-based) and its name. */
  index: number;
  filename: string;
}

const CHUNK_BYTES = 256 << 10;

interface Sized {
  filename: string;
  caption: string;
  size: number;
  load: () => Promise<Uint8Array>;
}

async function sized(source: ImageSource): Promise<Sized> {
  if (typeof source === 'string') source = { path: source };
  if ('path' in source) {
    const path = source.path;
    return {
      filename: basename(path),
      caption: source.caption ?? '',
      size: (await stat(path)).size,
      load: () => readFile(path),
    };
  }
  const data = source.data;
  return {
    filename: source.filename,
    caption: source.caption ?? '',
    size: data.byteLength,
    load: async () => data,
  };
}

export async function streamImages(
  open: (
    callback: grpc.requestCallback<UploadImagesResponse__Output>,
  ) => grpc.ClientWritableStream<UploadImagesRequest>,
  header: { parent: string; skipInvalid: boolean },
  images: ImageSource[],
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<UploadImagesResponse__Output> {
  const all = await Promise.all(images.map(sized));
  const totalBytes = all.reduce((sum, image) => sum + image.size, 0);
  let settle!: (error: Error | null, response?: UploadImagesResponse__Output) => void;
  let settled = false;
  const result = new Promise<UploadImagesResponse__Output>((resolve, reject) => {
    settle = (error, response) => {
      settled = true;
      if (error) reject(error);
      else resolve(response!);
    };
  });
  // The server may end the call early (a concept no longer DRAFT): that
  // rejection is read below, never left unhandled meanwhile.
  result.catch(() => undefined);
  const call = open((error, response) => settle(error, response));
  const onAbort = () => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const write = async (message: UploadImagesRequest) => {
    if (!call.write(message)) await Promise.race([once(call, 'drain'), result]);
  };
  try {
    await write({ header });
    let sentBytes = 0;
    for (const [index, image] of all.entries()) {
      if (settled) break;  // ended by the server: its status is in `result`
      const data = await image.load();
      await write({
        imageStart: {
          filename: image.filename,
          caption: image.caption,
          sizeBytes: data.byteLength,
          sha256: createHash('sha256').update(data).digest('hex'),
        },
      });
      for (let offset = 0; offset < data.byteLength && !settled; offset += CHUNK_BYTES) {
        const chunk = data.subarray(offset, Math.min(offset + CHUNK_BYTES, data.byteLength));
        await write({ chunk: Buffer.from(chunk) });
        sentBytes += chunk.byteLength;
        onProgress?.({ sentBytes, totalBytes, index, filename: image.filename });
      }
    }
    if (!settled) call.end();
  } catch (error) {
    // The server ended the call early (its status is in `result`), or reading
    // a file failed.
    call.cancel();
    await result.catch(() => undefined);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return result;
}
