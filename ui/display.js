// The customer display window: no controls; it paints what the core says the customer
// should see, and follows the core's `display-changed` events (no polling).
const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
const $ = (id) => document.getElementById(id);
let seq = -1;

async function paint(state) {
  if (state.seq < seq) return;
  seq = state.seq;
  document.documentElement.lang = state.lang || 'en';
  if (state.qr) {
    $('qr').src = state.qr;
    await $('qr').decode().catch(() => {});
  } else {
    $('qr').removeAttribute('src');
  }
  $('qr').hidden = !state.qr;
  $('shop').textContent = state.shop ?? '';
  $('title').textContent = state.title ?? '';
  $('amount').textContent = state.amount ?? '';
  $('note').textContent = state.note ?? '';
  document.body.dataset.phase = state.phase;
  document.body.dataset.reference = state.reference ?? '';
  document.body.dataset.seq = String(state.seq);
}

function listen(event, handler) {
  const callback = window.__TAURI_INTERNALS__.transformCallback((e) => handler(e.payload));
  return invoke('plugin:event|listen', { event, target: { kind: 'Any' }, handler: callback });
}

async function start() {
  await listen('display-changed', paint);
  await listen('language-changed', () => location.reload());
  try {
    const lang = await invoke('ui_language');
    document.title = lang.words['Paydesk — customer display'] ?? document.title;
    $('qr').alt = lang.words['Payment QR code'] ?? $('qr').alt;
  } catch { /* English */ }
  await paint(await invoke('display_state'));
  document.body.dataset.ready = 'true';
}

start();
