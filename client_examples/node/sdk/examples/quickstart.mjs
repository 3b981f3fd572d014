// node examples/quickstart.mjs PHOTO_DIR   (STAMINA_ADDRESS, STAMINA_API_KEY)
import { readdirSync, writeFileSync } from 'node:fs';
import { StaminaClient } from '@stamina/client';

const stamina = new StaminaClient({
  address: process.env.STAMINA_ADDRESS ?? '127.0.0.1:7070',
  apiKey: process.env.STAMINA_API_KEY,
});
const dir = process.argv[2];
await stamina.createModel('family', { displayName: 'Family' });
const anna = await stamina.createConcept('family', 'anna', { token: '<anna>' });
await stamina.uploadImages(anna.name, readdirSync(dir).map((f) => `${dir}/${f}`), {
  onProgress: (p) => console.log(`upload ${p.sentBytes}/${p.totalBytes} bytes`),
});
const job = await stamina.train(anna.name, { steps: Number(process.env.STEPS ?? 200) });
const done = await stamina.wait(job.name, {
  onUpdate: ({ state, progress: p }) => console.log(state, p.phase, `${p.step}/${p.totalSteps}`),
});
const [image] = await stamina.sample({ model: 'family', prompt: 'a photo of <anna>', seed: 7 });
writeFileSync('anna.png', image.png);
console.log(`${done.resultVersion}: anna.png`);
stamina.close();
