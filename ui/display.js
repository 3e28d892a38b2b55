// The customer display window: no controls; it paints what the core says the customer
// should see, and follows the core's `display-changed` events (no polling).
import { displayState, onEvent } from './api.js';
import { loadLanguage, translatePage } from './i18n.js';

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
  $('badge').textContent = state.badge ?? '';
  $('badge').hidden = !state.badge;
  document.body.dataset.phase = state.phase;
  document.body.dataset.reference = state.reference ?? '';
  document.body.dataset.seq = String(state.seq);
}

async function start() {
  await onEvent('display-changed', paint);
  await onEvent('language-changed', () => location.reload());
  await loadLanguage();
  translatePage();
  await paint(await displayState());
  document.body.dataset.ready = 'true';
}

start();
