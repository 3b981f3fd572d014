// The page: picks photos (thumbnails), uploads them and starts training,
// follows the job over Server-Sent Events (phase, step, loss, ETA), samples,
// and lists the model's lineage and versions with rollback.
const $ = (id) => document.getElementById(id);
let photos = [];

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.field ? `${body.field}: ${body.error}` : body.error);
  }
  return body;
}

function pickPhotos(files) {
  photos = [...files].filter((f) => /^image\/(png|jpeg|webp)$/.test(f.type));
  $('thumbs').replaceChildren(
    ...photos.map((file) => {
      const img = document.createElement('img');
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      img.title = file.name;
      return img;
    }),
  );
  $('upload-status').textContent = `${photos.length} photo(s) selected`;
}
$('photos').addEventListener('change', (e) => pickPhotos(e.target.files));
$('folder').addEventListener('change', (e) => pickPhotos(e.target.files));

function formatEta(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 1) return ' · ETA <1s';
  const s = Math.round(seconds);
  return ` · ETA ${s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`}`;
}

function showJob(job) {
  $('job').hidden = false;
  $('bar-fill').style.width = `${Math.round(job.fraction * 100)}%`;
  const label = $('job-label');
  label.dataset.state = job.state;
  let text = job.state;
  if (job.state === 'QUEUED') text += ` · position ${job.queuePosition}`;
  if (job.state === 'RUNNING') text += ` · ${job.phase}`;
  if (job.totalSteps) text += ` · step ${job.step}/${job.totalSteps}`;
  if (job.loss) text += ` · loss ${job.loss.toFixed(4)}`;
  text += formatEta(job.etaSeconds);
  if (job.error) text += ` · ${job.error}`;
  label.textContent = text;
}

function follow(jobId) {
  return new Promise((resolve) => {
    const events = new EventSource(`/api/jobs/${jobId}/events`);
    let last;
    events.addEventListener('job', (e) => showJob((last = JSON.parse(e.data))));
    const done = () => {
      events.close();
      resolve(last);
    };
    events.addEventListener('end', done);
    events.addEventListener('failure', (e) => {
      $('job-label').textContent = JSON.parse(e.data).error;
      done();
    });
  });
}

$('concept-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = new FormData();
  body.set('id', form.get('id'));
  body.set('token', form.get('token'));
  for (const photo of photos) body.append('photos', photo, photo.name);
  $('train').disabled = true;
  try {
    $('upload-status').textContent = `uploading ${photos.length} photo(s)...`;
    const uploaded = await api('/api/concepts', { method: 'POST', body });
    const rejected = uploaded.results.filter((r) => r.outcome === 'REJECTED');
    $('upload-status').textContent =
      `${uploaded.images} image(s) in ${uploaded.concept}` +
      (rejected.length ? `; rejected: ${rejected.map((r) => `${r.filename} (${r.reason})`).join(', ')}` : '');
    const job = await api(`/api/concepts/${form.get('id')}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ steps: Number(form.get('steps')) }),
    });
    showJob(job);
    await follow(job.name.split('/').pop());
    await refresh();
  } catch (error) {
    $('upload-status').textContent = error.message;
  } finally {
    $('train').disabled = false;
  }
});

$('sample-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $('generate').disabled = true;
  $('sample-status').textContent = 'drawing...';
  try {
    const images = await api('/api/samples', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: form.get('prompt'),
        count: Number(form.get('count')),
        seed: Number(form.get('seed')),
      }),
    });
    const figures = images.map((image) => {
      const figure = document.createElement('figure');
      const img = document.createElement('img');
      img.src = image.url;
      img.alt = form.get('prompt');
      const caption = document.createElement('figcaption');
      caption.textContent = `seed ${image.seed} · ${image.version.split('/').pop() ? `v${image.version.split('/').pop()}` : 'base'}`;
      figure.append(img, caption);
      return figure;
    });
    $('gallery').prepend(...figures);
    $('sample-status').textContent = `${images.length} image(s) for “${form.get('prompt')}”`;
  } catch (error) {
    $('sample-status').textContent = error.message;
  } finally {
    $('generate').disabled = false;
  }
});

async function refresh() {
  const state = await api('/api/state');
  $('model').textContent = `${state.model} · head ${state.head || 'base model'}`;
  $('lineage').replaceChildren(
    ...state.lineage.map((entry) => {
      const li = document.createElement('li');
      li.textContent = `${entry.token} (v${entry.version.split('/').pop()})`;
      return li;
    }),
  );
  $('versions').replaceChildren(
    ...state.versions.map((version) => {
      const li = document.createElement('li');
      li.textContent = `v${version.name.split('/').pop()}: ${version.token}, ${version.depth} concept(s)`;
      if (version.name === state.head) {
        li.classList.add('head');
        li.append(' ← head');
      } else {
        const button = document.createElement('button');
        button.textContent = 'roll back here';
        button.addEventListener('click', async () => {
          await api('/api/rollback', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ version: version.name }),
          });
          await refresh();
        });
        li.append(button);
      }
      return li;
    }),
  );
}
refresh().catch((error) => ($('model').textContent = error.message));
