import * as api from './api.js';
import { initCounter } from './counter.js';
import { initPrinting } from './printing.js';
import { offers, rememberedProfile, setProfile, state } from './state.js';
import { loadLanguage, t, translatePage } from './i18n.js';
import { setStatusLabels } from './format.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['counter', 'transactions', 'customers', 'cards', 'reports', 'settings'];

/** The screens behind the counter load when one of them is first chosen: a start fetches
 *  and sets up the counter alone, and a counter that only sells never holds the rest. */
let otherScreens = null;
function loadOtherScreens() {
  otherScreens ??= Promise.all([
    import('./transactions.js'), import('./customers.js'), import('./cards.js'), import('./reports.js'), import('./settings.js'),
  ]).then(([transactions, customers, cards, reports, settings]) => {
    transactions.initTransactions();
    customers.initCustomers();
    cards.initCards();
    reports.initReports();
    settings.initSettings({ refreshProfiles: () => refreshProfiles() });
  });
  return otherScreens;
}

export async function showView(name) {
  for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.dataset.view === name);
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
  if (name !== 'counter') await loadOtherScreens();
  // Another tab may have been chosen while the screens loaded: only the one shown is told.
  if (!$(`view-${name}`).hidden) document.dispatchEvent(new CustomEvent('paydesk:view', { detail: name }));
}

function showProfile(profile) {
  const badge = $('mode-badge');
  badge.textContent = t(profile.environment.toUpperCase());
  badge.className = `badge env-${profile.environment}`;
  document.body.dataset.environment = profile.environment;
  const strip = $('mode-strip');
  strip.hidden = profile.environment === 'production';
  // Honest labels: only what the app knows about the address is said.
  strip.textContent = {
    demo: t('Demo mode — payments go to the built-in sandbox. No real money moves.'),
    sandbox: t("The provider's sandbox — no real money moves."),
    custom: t('Custom address — whether real money moves depends on it; check with your provider.'),
  }[profile.environment] ?? '';
  $('profile-switch').value = profile.name;
  // Screens for what this profile's provider offers, and only those.
  $('tab-customers').hidden = !offers('customers', profile);
  $('tab-cards').hidden = !offers('tokens', profile);
  const current = document.querySelector('.tab.active');
  if (current?.hidden) showView('counter');
}

/** Fills the header's profile switcher; keeps the current choice when it still exists.
 *  `known`: what app_info just answered (at start), so it is not asked twice. */
export async function refreshProfiles(known) {
  const info = known ?? await api.appInfo();
  state.info = info;
  const select = $('profile-switch');
  select.replaceChildren(...info.profiles.map((p) => new Option(p.name === p.environment ? p.name : `${p.name} · ${t(p.environment)}`, p.name)));
  const wanted = state.profile?.name ?? rememberedProfile();
  const chosen = info.profiles.find((p) => p.name === wanted) ?? info.profile;
  setProfile(chosen);
}

/** A profile saved or removed at another counter of the shared ledger: every list anew,
 *  and the cashier told in the header (their own changes are not news). */
async function profilesChanged() {
  await refreshProfiles().catch(() => {});
  document.dispatchEvent(new CustomEvent('paydesk:profiles-changed'));
  let newest;
  try { [newest] = await api.profileHistory(1); } catch { return; }
  if (!newest || newest.here) return;
  const notice = $('profiles-notice');
  notice.textContent = newest.kind === 'profile_removed'
    ? t('Profile {profile} was removed at another counter.', { profile: newest.detail.profile })
    : t('Profile {profile} was changed at another counter.', { profile: newest.detail.profile });
  notice.dataset.profile = newest.detail.profile;
  notice.hidden = false;
  clearTimeout(profilesChanged.timer);
  profilesChanged.timer = setTimeout(() => { notice.hidden = true; }, 30000);
}

/** The header's word while the shared ledger is away: sales keep being made, and wait. */
function showOffline(waiting) {
  const note = $('ledger-offline');
  note.hidden = waiting == null;
  if (waiting != null) {
    note.textContent = t('Shared ledger offline — {n} sales waiting', { n: waiting });
    note.dataset.waiting = String(waiting);
  }
}

async function start() {
  // Both questions at once: the start waits for the slower, not for their sum.
  const infoAsked = api.appInfo();
  infoAsked.catch(() => { /* answered below, where the start handles it */ });
  await loadLanguage();
  translatePage();
  // Another language chosen (here or in the customer display's host): every string anew.
  // The screen in use is kept across the reload: only the words change.
  api.onEvent('language-changed', () => {
    const current = document.querySelector('.tab.active')?.dataset.view;
    if (current) sessionStorage.setItem('paydesk.view', current);
    location.reload();
  }).catch(() => {});
  // The screen facing the customer: the header button, or F9 from anywhere.
  $('open-display').addEventListener('click', () => api.openCustomerDisplay().catch(() => {}));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'F9') { e.preventDefault(); api.openCustomerDisplay().catch(() => {}); }
  });
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => showView(tab.dataset.view));
  document.addEventListener('paydesk:profile', (e) => showProfile(e.detail));
  $('profile-switch').addEventListener('change', (e) => {
    const p = state.info.profiles.find((x) => x.name === e.target.value);
    if (p) setProfile(p);
  });
  try {
    state.info = await infoAsked;
    setStatusLabels(state.info.status_labels);
    showOffline(state.info.offline_waiting);
    api.onEvent('ledger-offline', showOffline).catch(() => {});
    api.onEvent('profiles-changed', profilesChanged).catch(() => {});
    $('about-version').textContent = state.info.version;
    $('about-ledger').textContent = state.info.ledger_path;
    initCounter();
    initPrinting();
    await refreshProfiles(state.info);
    const kept = sessionStorage.getItem('paydesk.view');
    sessionStorage.removeItem('paydesk.view');
    if (VIEWS.includes(kept) && !$(`tab-${kept}`).hidden) await showView(kept);
    document.body.dataset.ready = 'true';
    // When the counter could first sell (epoch ms): the window benchmark reads it.
    document.body.dataset.readyAt = String(Date.now());
    api.uiReady().catch(() => {});
  } catch (err) {
    $('counter-error').hidden = false;
    $('counter-error').textContent = api.describeError(err);
    offerLocalLedger();
  }
}

/** When the shared ledger chosen in Settings cannot be reached, this computer's own ledger
 *  file is offered instead (from the next start); nothing is sold meanwhile. */
async function offerLocalLedger() {
  let ledger;
  try { ledger = await api.ledgerSettings(); } catch { return; }
  if (!ledger.shared_ledger || ledger.set_by_environment) return;
  $('ledger-away').hidden = false;
  $('use-local-ledger').addEventListener('click', async () => {
    try {
      await api.saveSharedLedger(null, null);
      $('use-local-ledger').disabled = true;
      $('ledger-away-message').textContent = t('Saved. Paydesk uses it from its next start.');
    } catch (err) {
      $('ledger-away-message').textContent = api.describeError(err);
    }
  });
}

start();
