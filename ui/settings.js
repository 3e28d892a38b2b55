// Profiles (one per store): add, edit, delete, test. The API secret goes to the OS keyring and is
// only ever shown as "saved".
import * as api from './api.js';
import { clearFieldErrors, el, problemsOf, showFieldErrors } from './format.js';
import { language, t } from './i18n.js';
import { setProfile, state } from './state.js';

const $ = (id) => document.getElementById(id);
let refreshProfiles;
let editing = null;
/** The edited profile's private-network allowance (set with the CLI), kept as it was. */
let editingPrivateNetwork = false;

const ENV_URLS = { sandbox: 'sandbox', production: 'production' };
// The form's input for each field the core names in its problems (a provider's settings
// by their keys, see settingInput).
const PROFILE_INPUTS = {
  name: 'pf-name', base_url: 'pf-base-url', ipn_url: 'pf-ipn-url', callback_url: 'pf-callback-url',
  ipn_listen: 'pf-ipn-listen', shop: 'pf-shop',
};

/** What each provider declares of itself (the core's list): the form is made from it. */
const providers = () => state.info?.providers ?? [];
const declared = (provider) => providers().find((p) => p.provider === provider);
const settingId = (key) => `pf-${key.replaceAll('_', '-')}`;
const settingInput = (key) => $(settingId(key));

/** One field per declared setting (a key two providers share is one field), each shown
 *  for the providers that declare it. */
function buildSettingFields() {
  const byKey = new Map();
  for (const p of providers()) {
    for (const setting of p.settings) {
      const known = byKey.get(setting.key) ?? { setting, providers: [] };
      known.providers.push(p.provider);
      byKey.set(setting.key, known);
    }
  }
  const fields = [...byKey.values()].map(({ setting, providers: owners }) => {
    const id = settingId(setting.key);
    const label = t(setting.label);
    const required = setting.required ? [el('span', { class: 'req', 'aria-label': t('required') }, '*')] : [];
    const dataset = { providers: owners.join(' '), key: setting.key };
    if (setting.kind === 'flag') {
      return el('label', { class: 'span2', dataset }, el('input', { type: 'checkbox', id }), ' ', label);
    }
    if (setting.kind === 'pem') {
      return el('label', { class: 'span2', dataset }, el('span', {}, label, ...required),
        el('textarea', { id, rows: '3', placeholder: '-----BEGIN PUBLIC KEY-----', spellcheck: 'false' }));
    }
    const input = el('input', { id, maxlength: String(setting.max_chars), autocomplete: 'off' });
    if (setting.kind === 'digits') input.inputMode = 'numeric';
    if (setting.kind === 'ip') input.placeholder = '203.0.113.7';
    // The label and its mark on one line, the field below.
    return el('label', { dataset }, el('span', {}, label, ...required), input);
  });
  $('pf-settings').replaceChildren(...fields);
  $('pf-provider').replaceChildren(...providers().map((p) => new Option(p.label, p.provider)));
}

function message(text, ok = true) {
  const m = $('profile-message');
  m.textContent = text;
  m.className = ok ? 'message ok' : 'message error';
  m.hidden = false;
}

function clearForm() {
  editing = null;
  editingPrivateNetwork = false;
  for (const id of ['pf-name', 'pf-base-url', 'pf-ipn-url', 'pf-callback-url', 'pf-ipn-listen', 'pf-shop', 'pf-token', 'pf-key']) $(id).value = '';
  for (const input of $('pf-settings').querySelectorAll('input, textarea')) {
    if (input.type === 'checkbox') input.checked = false;
    else input.value = '';
  }
  $('pf-name').disabled = false;
  $('pf-provider').value = providers()[0]?.provider ?? '';
  showProviderFields();
  $('pf-environment').value = 'sandbox';
  showBaseUrl();
  $('pf-token').placeholder = t('Paste the API secret');
  $('profile-form-title').textContent = t('Add a profile');
  $('profile-message').hidden = true;
  clearFieldErrors($('profile-form'));
}

function fill(p) {
  editing = p.name;
  editingPrivateNetwork = Boolean(p.private_network);
  $('pf-name').value = p.name;
  $('pf-name').disabled = true;
  $('pf-environment').value = p.environment === 'production' || p.environment === 'sandbox' ? p.environment : 'custom';
  $('pf-base-url').value = p.environment === 'custom' ? p.base_url : '';
  showBaseUrl();
  $('pf-provider').value = p.provider;
  showProviderFields();
  for (const setting of declared(p.provider)?.settings ?? []) {
    const input = settingInput(setting.key);
    if (setting.kind === 'flag') input.checked = p[setting.key] === 'true';
    else input.value = p[setting.key] ?? '';
  }
  $('pf-key').value = '';
  $('pf-ipn-url').value = p.ipn_url ?? '';
  $('pf-shop').value = p.shop ?? '';
  $('pf-callback-url').value = p.callback_url ?? '';
  $('pf-ipn-listen').value = p.ipn_listen ?? '';
  $('pf-token').value = '';
  $('pf-token').placeholder = p.token === 'saved' ? t('Saved — type a new one to replace it') : t('Not saved — paste the API secret');
  $('profile-form-title').textContent = t('Edit {profile}', { profile: p.name });
  $('profile-message').hidden = true;
  clearFieldErrors($('profile-form'));
}

async function load() {
  // Marked while the list is being read again: a row shown meanwhile is about to be
  // replaced (with any confirmation open in it).
  $('profile-list').dataset.loading = 'true';
  try {
    const profiles = await api.listProfiles();
    $('profile-list').replaceChildren(...profiles.map(row));
  } catch (err) {
    message(api.describeError(err), false);
  } finally {
    delete $('profile-list').dataset.loading;
  }
  await loadHistory();
}

/** One change of a profile in words: when, what, where. */
function historyLine(e) {
  const changed = (e.detail.changed ?? []).join(', ');
  const what = e.kind === 'profile_removed'
    ? t('{profile} removed', { profile: e.detail.profile })
    : changed ? t('{profile} saved ({changed})', { profile: e.detail.profile, changed }) : t('{profile} saved', { profile: e.detail.profile });
  return el('li', { dataset: { kind: e.kind, profile: e.detail.profile ?? '', here: String(e.here) } },
    el('time', { datetime: e.at }, e.at.replace('T', ' ').slice(0, 19)), ' ', what, ' · ',
    el('span', { class: 'muted' }, e.here ? t('this counter') : t('another counter')));
}

async function loadHistory() {
  try {
    $('profile-history-list').replaceChildren(...(await api.profileHistory(20)).map(historyLine));
  } catch { /* the list stays as it was */ }
}

function row(p) {
  const buttons = [];
  const inUse = p.name === state.profile?.name;
  const note = el('p', { class: 'row-message small', role: 'status', hidden: '' });
  const details = el('details', { class: 'connection-details small', hidden: '' });
  const say = (text, ok = true) => {
    note.textContent = text;
    note.dataset.kind = ok ? 'ok' : 'error';
    note.hidden = false;
  };
  const button = (label, action, cls = 'secondary') => {
    const b = el('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', action);
    buttons.push(b);
    return b;
  };
  const actions = el('div', { class: 'actions' });
  // Destructive actions ask first, in the row, naming what goes and what stays.
  const confirmFirst = (question, yesLabel, run) => () => {
    const yes = el('button', { type: 'button', class: 'danger confirm-yes' }, yesLabel);
    const no = el('button', { type: 'button', class: 'secondary confirm-no' }, t('Keep'));
    no.addEventListener('click', () => actions.replaceChildren(...buttons));
    yes.addEventListener('click', run);
    actions.replaceChildren(el('span', { class: 'confirm-text' }, question), yes, no);
    yes.focus();
  };
  button(t('Use'), () => { const full = state.info.profiles.find((x) => x.name === p.name); if (full) setProfile(full); load(); });
  button(t('Test connection'), async () => {
    say(t('Testing {profile}…', { profile: p.name }));
    details.hidden = true;
    try {
      const report = await api.diagnoseConnection(p.name);
      say(report.message, report.ok);
      showDetails(details, report);
    } catch (err) { say(api.describeError(err), false); }
  });
  if (p.environment !== 'demo') {
    button(t('Edit'), () => fill(p));
    if (p.token === 'saved') {
      button(t('Delete secret'), confirmFirst(t('Delete the saved secret of {profile}? It cannot sell until a new one is saved.', { profile: p.name }), t('Delete secret'), async () => {
        try { await api.deleteSecret(p.name); message(t('Secret for {profile} deleted', { profile: p.name })); await load(); } catch (err) { say(api.describeError(err), false); }
      }));
    }
    button(t('Delete'), confirmFirst(t('Delete profile {profile}? Its payments stay in the ledger.', { profile: p.name }), t('Delete profile'), async () => {
      try {
        await api.deleteProfile(p.name);
        message(t('Profile {profile} deleted; its payments stay in the ledger.', { profile: p.name }));
        await refreshProfiles();
        await load();
      } catch (err) { say(api.describeError(err), false); }
    }), 'danger');
  }
  actions.replaceChildren(...buttons);
  return el('li', { dataset: { profile: p.name, baseUrl: p.base_url, inUse: String(inUse) }, class: inUse ? 'in-use' : '' },
    el('div', { class: 'profile-line' },
      el('strong', {}, p.name), ' ', el('span', { class: `badge env-${p.environment}` }, t(p.environment.toUpperCase())),
      ...(inUse ? [' ', el('span', { class: 'in-use-mark' }, t('in use'))] : [])),
    el('div', { class: 'muted small' }, summary(p)
      + (p.ipn_listen ? ` · ${t('notifications on {address}', { address: p.ipn_listen })}` : '')),
    actions, note, details);
}

/** A profile in one line, as its provider declares it: "<label> · merchant 200043 · store
 *  300014 · token saved". */
function summary(p) {
  const info = declared(p.provider);
  const settings = (info?.settings ?? []).filter((s) => s.summary && p[s.key]).map((s) => `${t(s.summary)} ${p[s.key]}`);
  const secret = info ? `${t(info.secret.summary)} ${t(p.token)}` : t(p.token);
  return [info?.label ?? p.provider, ...settings, secret].join(' · ');
}

/** Test connection's details, for the provider's support: signatures already removed. */
function showDetails(details, report) {
  const skew = report.clock_skew_ms == null ? t('unknown') : `${(report.clock_skew_ms / 1000).toFixed(1)} s`;
  details.replaceChildren(
    el('summary', {}, t('Details')),
    el('p', {}, t('Diagnosis: {diagnosis}', { diagnosis: report.diagnosis }), ' · ', t('Clock skew to the provider: {skew}', { skew })),
    el('pre', { class: 'exchanges' }, JSON.stringify(report.exchanges, null, 2)));
  details.dataset.diagnosis = report.diagnosis;
  details.hidden = false;
}

async function save(e) {
  e.preventDefault();
  const env = $('pf-environment').value;
  const input = {
    name: editing ?? $('pf-name').value.trim(),
    provider: $('pf-provider').value,
    base_url: ENV_URLS[env] ?? $('pf-base-url').value.trim(),
    ...providerSettings($('pf-provider').value),
    ipn_url: $('pf-ipn-url').value.trim() || null,
    callback_url: $('pf-callback-url').value.trim() || null,
    ipn_listen: $('pf-ipn-listen').value.trim() || null,
    // Empty: "main" for a new profile, its own shop when editing.
    shop: $('pf-shop').value.trim() || null,
    // Editing a listed profile replaces it; a new name never silently replaces another.
    replace: editing != null,
    private_network: editing != null && editingPrivateNetwork,
  };
  // The API secret (a token, an app secret or a private key): only into the OS keyring.
  const token = declared($('pf-provider').value)?.secret.multiline ? $('pf-key').value : $('pf-token').value;
  try {
    const saved = await api.saveProfile(input, token || null);
    $('pf-token').value = '';
    $('pf-key').value = '';
    await refreshProfiles();
    await load();
    const listed = (await api.listProfiles()).find((p) => p.name === saved.name);
    if (listed) fill(listed);
    message(token ? t('Saved {profile} — API secret saved in the OS keyring', { profile: saved.name }) : t('Saved {profile}', { profile: saved.name }));
  } catch (err) {
    // Every field's problem at once, next to its field.
    const problems = problemsOf(err);
    showFieldErrors($('profile-form'), problems, (field) => (PROFILE_INPUTS[field] ? $(PROFILE_INPUTS[field]) : settingInput(field)));
    message(problems.length > 1 ? t('{n} fields need fixing; each is marked below its field.', { n: problems.length }) : api.describeError(err), false);
  }
}

/** The base URL is asked only for a custom environment (Sandbox and Production know theirs). */
function showBaseUrl() {
  $('pf-base-url-field').hidden = $('pf-environment').value !== 'custom';
}

/** The provider's own fields: each provider asks for its own settings and secret. */
function showProviderFields() {
  const provider = $('pf-provider').value;
  for (const f of $('pf-settings').children) f.hidden = !f.dataset.providers.split(' ').includes(provider);
  const secret = declared(provider)?.secret ?? { label: 'API secret', multiline: false };
  $('pf-token-field').hidden = secret.multiline;
  $('pf-key-field').hidden = !secret.multiline;
  $('pf-token-label').textContent = t(secret.label);
  $('pf-key-label').textContent = t(secret.label);
}

/** The settings the chosen provider declares, as the form holds them. */
function providerSettings(provider) {
  const settings = {};
  for (const setting of declared(provider)?.settings ?? []) {
    const input = settingInput(setting.key);
    if (setting.kind === 'flag') settings[setting.key] = input.checked ? 'true' : null;
    else settings[setting.key] = input.value.trim() || (setting.required ? '' : null);
  }
  return settings;
}

/** The hash chain's state: verified, or where it breaks. */
async function showChain() {
  const p = $('chain-state');
  p.textContent = t('Checking…');
  try {
    const r = await api.ledgerStatus();
    p.textContent = r.ok
      ? t("Verified: {n} sealed changes, nothing edited behind the app's back.", { n: r.entries })
      : t('Does NOT verify: {problem}', { problem: r.problem });
    p.dataset.ok = String(r.ok);
    // Kept somewhere else, it later proves nothing was cut off and rebuilt.
    $('chain-head').textContent = r.head ?? '';
    $('chain-head-line').hidden = !r.ok || !r.head;
  } catch (err) {
    p.textContent = api.describeError(err);
    p.dataset.ok = 'false';
    $('chain-head-line').hidden = true;
  }
}

/** Language: the system's or one chosen; the windows reload in it. */
async function initLanguage() {
  const lang = language();
  const select = $('language');
  for (const [tag, name] of lang.choices ?? []) select.append(new Option(name, tag));
  select.value = lang.chosen ?? '';
  select.addEventListener('change', async () => {
    try { await api.setLanguage(select.value || null); } catch (err) { message(api.describeError(err), false); }
  });
}

/** A form's own status line: says `text` (an error when not ok), hidden when empty. */
const sayIn = (id) => (text, ok = true) => {
  const m = $(id);
  m.textContent = text;
  m.className = ok ? 'message ok' : 'message error';
  m.hidden = !text;
};

/** Demo mode: whether phones on this network reach the demo sandbox to pay. */
async function initDemo() {
  const say = sayIn('demo-message');
  const show = (p) => {
    $('demo-settings').hidden = !p.available;
    $('demo-phones').checked = Boolean(p.url);
    $('demo-settings').dataset.url = p.url ?? '';
    if (p.url) say(t('Phones on the same network scan the QR and pay at {url}. Sales made from now on carry this address.', { url: p.url }));
    else if (p.on) say(t('Phones cannot reach this computer now: it is on no local network.'), false);
    else say('');
  };
  $('demo-phones').addEventListener('change', async () => {
    const box = $('demo-phones');
    box.disabled = true;
    try {
      show(await api.setDemoPhones(box.checked));
    } catch (err) {
      box.checked = false;
      say(api.describeError(err), false);
    } finally {
      box.disabled = false;
    }
  });
  try { show(await api.demoPhones()); } catch { /* not in demo mode */ }
}

/** The customer display: shop name and the optional page on the local network. */
async function initDisplay() {
  const say = sayIn('display-message');
  const show = (s) => {
    $('shop-name').value = s.shop_name ?? '';
    $('lan-on').checked = Boolean(s.lan_display);
    $('lan-bind').value = s.lan_display ?? '';
    $('lan-bind-field').hidden = !s.lan_display;
    $('display-form').dataset.lanUrl = s.lan_url ?? '';
  };
  $('display-open').addEventListener('click', () => api.openCustomerDisplay().catch((err) => say(api.describeError(err), false)));
  $('display-close').addEventListener('click', () => api.closeCustomerDisplay().catch((err) => say(api.describeError(err), false)));
  $('lan-on').addEventListener('change', () => {
    $('lan-bind-field').hidden = !$('lan-on').checked;
    if ($('lan-on').checked && !$('lan-bind').value) $('lan-bind').value = '0.0.0.0:8790';
  });
  $('display-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors($('display-form'));
    try {
      const saved = await api.saveDisplaySettings({
        shop_name: $('shop-name').value.trim() || null,
        lan_display: $('lan-on').checked ? $('lan-bind').value.trim() : null,
      });
      show(saved);
      say(saved.lan_url ? t('Saved. A tablet on the same network opens {url}', { url: saved.lan_url.replace('0.0.0.0', t('this computer’s address')) }) : t('Saved.'));
    } catch (err) {
      showFieldErrors($('display-form'), problemsOf(err), (field) => (field === 'lan_display' ? $('lan-bind') : null));
      say(api.describeError(err), false);
    }
  });
  try { show(await api.displaySettings()); } catch { /* the form starts empty */ }
  $('display-form').dataset.ready = 'true';
}

/** Shared ledger: which ledger this counter uses from its next start. */
async function initLedger() {
  const say = sayIn('ledger-message');
  const show = (s) => {
    $('ledger-in-use').textContent = s.shared
      ? t('This counter uses the shared ledger at {where}.', { where: s.in_use })
      : t('This counter uses its own ledger file: {where}.', { where: s.in_use });
    $('ledger-url').value = s.shared_ledger ?? '';
    $('ledger-password').value = '';
    $('ledger-password').placeholder = s.password_saved ? t('Saved in the keyring') : t('Kept in this computer’s keyring');
    $('ledger-local').hidden = !s.shared_ledger;
    for (const el of $('ledger-form').elements) el.disabled = s.set_by_environment;
    if (s.set_by_environment) say(t('PAYDESK_LEDGER chooses the ledger on this computer.'));
  };
  const choose = async (url) => {
    clearFieldErrors($('ledger-form'));
    say(url ? t('Connecting…') : '');
    $('ledger-save').disabled = true;
    try {
      const saved = await api.saveSharedLedger(url, url ? ($('ledger-password').value || null) : null);
      show(saved);
      say(t('Saved. Paydesk uses it from its next start.'));
    } catch (err) {
      showFieldErrors($('ledger-form'), problemsOf(err), (field) => (field === 'shared_ledger' ? $('ledger-url') : null));
      say(api.describeError(err), false);
    } finally {
      $('ledger-save').disabled = false;
    }
  };
  $('ledger-form').addEventListener('submit', (e) => {
    e.preventDefault();
    choose($('ledger-url').value.trim() || null);
  });
  $('ledger-local').addEventListener('click', () => choose(null));
  try { show(await api.ledgerSettings()); } catch { /* shown empty */ }
}

export function initSettings(deps) {
  initLanguage();
  initDemo();
  initDisplay();
  initLedger();
  try {
    $('paper').value = localStorage.getItem('paydesk.paper') ?? '80mm';
    $('sound').checked = localStorage.getItem('paydesk.sound') !== 'off';
  } catch { /* storage off */ }
  $('sound').addEventListener('change', () => { try { localStorage.setItem('paydesk.sound', $('sound').checked ? 'on' : 'off'); } catch { /* storage off */ } });
  $('paper').addEventListener('change', () => { try { localStorage.setItem('paydesk.paper', $('paper').value); } catch { /* storage off */ } });
  $('chain-check').addEventListener('click', showChain);
  refreshProfiles = deps.refreshProfiles;
  buildSettingFields();
  $('pf-provider').addEventListener('change', showProviderFields);
  $('pf-environment').addEventListener('change', showBaseUrl);
  $('profile-form').addEventListener('submit', save);
  $('pf-clear').addEventListener('click', clearForm);
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'settings') { load(); showChain(); } });
  // Profiles saved or removed at another counter (the header tells of it; see app.js).
  document.addEventListener('paydesk:profiles-changed', () => { if (!$('view-settings').hidden) load(); });
  clearForm();
}
