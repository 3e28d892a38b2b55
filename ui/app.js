import * as api from './api.js';
import { initCounter } from './counter.js';
import { initTransactions } from './transactions.js';

const $ = (id) => document.getElementById(id);

function showView(name) {
  for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.dataset.view === name);
  $('view-counter').hidden = name !== 'counter';
  $('view-transactions').hidden = name !== 'transactions';
  document.dispatchEvent(new CustomEvent('paydesk:view', { detail: name }));
}

function showProfile(profile) {
  $('profile-name').textContent = profile.name;
  const badge = $('mode-badge');
  badge.textContent = profile.environment.toUpperCase();
  badge.className = `badge env-${profile.environment}`;
  document.body.dataset.environment = profile.environment;
  const strip = $('mode-strip');
  if (profile.environment !== 'production') {
    strip.hidden = false;
    strip.textContent = profile.environment === 'demo'
      ? 'Demo mode — payments go to the built-in sandbox. No real money moves.'
      : 'Test environment — no real money moves.';
  }
}

async function start() {
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => showView(tab.dataset.view));
  try {
    const info = await api.appInfo();
    showProfile(info.profile);
    initCounter(info);
    initTransactions(info);
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('counter-error').hidden = false;
    $('counter-error').textContent = api.describeError(err);
  }
}

start();
