// Starts the example web app:
//   STAMINA_ADDRESS=127.0.0.1:7070 STAMINA_API_KEY_FILE=key.txt [STAMINA_MODEL=webapp]
//   [STAMINA_TLS_CA=ca.pem] [PORT=8080] node server.mjs
// The API key stays here, never in the browser.
import { readFileSync } from 'node:fs';

import sdk from '@stamina/client';

import { createApp } from './app.mjs';

const env = process.env;
const apiKey = env.STAMINA_API_KEY_FILE
  ? readFileSync(env.STAMINA_API_KEY_FILE, 'utf8').trim()
  : env.STAMINA_API_KEY;
if (!env.STAMINA_ADDRESS || !apiKey) {
  console.error('set STAMINA_ADDRESS and STAMINA_API_KEY_FILE (or STAMINA_API_KEY)');
  process.exit(2);
}
const stamina = new sdk.StaminaClient({
  address: env.STAMINA_ADDRESS,
  apiKey,
  tls: env.STAMINA_TLS_CA ? { ca: readFileSync(env.STAMINA_TLS_CA) } : undefined,
});
const port = Number(env.PORT ?? 8080);
const server = createApp({ stamina, modelId: env.STAMINA_MODEL ?? 'webapp' }).listen(
  port,
  '127.0.0.1',
  () => console.log(`web app on http://127.0.0.1:${server.address().port}`),
);
process.on('SIGTERM', () => server.close(() => stamina.close()));
