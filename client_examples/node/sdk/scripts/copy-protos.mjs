// Copies the public API's .proto files (the repository's protos/stamina/v1)
// into proto/, which the package loads at run time and ships.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, '..', '..', '..', '..', 'protos', 'stamina', 'v1');
const to = join(here, '..', 'proto', 'stamina', 'v1');
rmSync(join(here, '..', 'proto'), { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from)) {
  if (file.endsWith('.proto')) cpSync(join(from, file), join(to, file));
}
