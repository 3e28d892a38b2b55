// The accountant's ledger: filter, totals, row detail with the full history.
import * as api from './api.js';
import { printHtml } from './printing.js';
import { el, fileName, localDate, minorToDecimal, money, parseAmount, statusLabel, statusNames } from './format.js';
import { t } from './i18n.js';
import { exponentOf, state } from './state.js';

const $ = (id) => document.getElementById(id);
let selected = null;
let selectedDetail = null;
let pendingAction = null;

// The outcome of a refund or cancel stays on screen until dismissed: a reload never hides it.
function tell(text, kind) {
  const box = $('action-message');
  box.dataset.kind = kind;
  $('action-message-text').textContent = text;
  box.hidden = false;
}

function untell() {
  $('action-message').hidden = true;
}

// What a toolbar job (Refresh unsettled, Export) ended with: above the list, where it was
// asked, until dismissed or the next job.
function banner(text, kind, exported = null) {
  const box = $('tx-banner');
  box.dataset.kind = kind;
  $('tx-banner-text').textContent = text;
  $('tx-banner-open').hidden = !exported;
  $('tx-banner-open').dataset.path = exported ?? '';
  box.hidden = false;
  placeDetail();
}

let nextCursor = null;
let jobTimer = null;

/** The filters as the core reads them (local dates; decimal amounts). */
export function currentQuery() {
  const v = (id) => $(id).value.trim() || null;
  const period = v('tx-period');
  return {
    period,
    from: period === 'custom' ? v('tx-from') : null,
    to: period === 'custom' ? v('tx-to') : null,
    status: v('tx-status'), provider: v('tx-provider'), profile: v('tx-profile'), shop: v('tx-shop'), method: v('tx-method'),
    min_amount: v('tx-min'), max_amount: v('tx-max'), text: v('tx-search'),
  };
}

/** Totals of the whole filter, per currency, from the ledger (not the rows on screen):
 * outcomes by count ("7 paid · 2 declined"), then money taken per currency (gross; with
 * refunds also refunded and net). A sale that took nothing adds nothing to gross. */
function totalsLine(totals) {
  const count = totals.reduce((n, x) => n + x.count, 0);
  if (!count) return t('{n} payments', { n: '0' });
  const outcomes = new Map();
  for (const x of totals) for (const [status, n] of Object.entries(x.outcomes ?? {})) outcomes.set(status, (outcomes.get(status) ?? 0) + n);
  const words = [...outcomes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([status, n]) => `${n.toLocaleString()} ${statusLabel(status).toLowerCase()}`);
  const parts = totals.filter((x) => x.taken_count > 0).map((x) => x.refunded_minor > 0
    ? t('{gross} gross · {refunded} refunded · {net} net', { gross: money(x.gross, x.currency), refunded: money(x.refunded, x.currency), net: money(x.net, x.currency) })
    : t('{gross} gross', { gross: money(x.gross, x.currency) }));
  return [...words, ...parts].join(' · ');
}

let loadSeq = 0;

async function load(append = false) {
  $('tx-error').hidden = true;
  // Filters change faster than answers come: only the latest question may paint.
  const seq = ++loadSeq;
  try {
    const query = { ...currentQuery(), limit: 50, after: append ? nextCursor : null };
    const [page, totals] = await Promise.all([api.txPage(query), append ? null : api.txTotals(currentQuery())]);
    if (!append) showShopTotals();
    if (seq !== loadSeq) return;
    if (totals) {
      $('tx-totals').textContent = totalsLine(totals);
      $('tx-totals').dataset.totals = JSON.stringify(totals);
    }
    const rows = page.payments.map(row);
    if (append) $('tx-rows').append(...rows); else $('tx-rows').replaceChildren(...rows);
    nextCursor = page.next;
    $('tx-more').hidden = !nextCursor;
    $('tx-empty').hidden = $('tx-rows').children.length > 0;
    placeDetail();
  } catch (err) {
    $('tx-error').hidden = false;
    $('tx-error').textContent = api.describeError(err);
  }
}

function fillFilterChoices() {
  const keepProvider = $('tx-provider').value;
  $('tx-provider').replaceChildren(new Option(t('All providers'), ''), ...(state.info?.providers ?? []).map((p) => new Option(p.label, p.provider)));
  $('tx-provider').value = keepProvider;
  // Several shops: the list starts at this counter's shop; "All shops" on request, with
  // each shop's totals beside the whole.
  const shops = [...new Set((state.info?.profiles ?? []).map((p) => p.shop ?? 'main'))].sort();
  const shopSelect = $('tx-shop');
  shopSelect.hidden = shops.length < 2;
  const keepShop = shopSelect.dataset.chosen ? shopSelect.value : (state.profile?.shop ?? '');
  shopSelect.replaceChildren(new Option(t('All shops'), ''), ...shops.map((s) => new Option(s, s)));
  shopSelect.value = shops.length < 2 ? '' : keepShop;
  const keepProfile = $('tx-profile').value;
  $('tx-profile').replaceChildren(new Option(t('All profiles'), ''), ...(state.info?.profiles ?? []).map((p) => new Option(p.name, p.name)));
  $('tx-profile').value = keepProfile;
}

/** All shops of several: each one's totals, which add up to the line above. */
async function showShopTotals() {
  const line = $('tx-shop-totals');
  if ($('tx-shop').hidden || $('tx-shop').value) { line.hidden = true; return; }
  try {
    const shops = await api.txTotalsByShop(currentQuery());
    line.replaceChildren(...shops.map((s) => el('span', { class: 'shop-total', dataset: { shop: s.shop } }, `${s.shop}: ${totalsLine(s.totals)}`)));
    line.hidden = false;
  } catch { line.hidden = true; }
}

/** A long job's progress bar, read every 200 ms until it ends. */
function watchJob(job, label) {
  $('job').hidden = false;
  $('job').dataset.job = job;
  $('job-label').textContent = label;
  $('job-bar').value = 0;
  $('job-count').textContent = '';
  clearInterval(jobTimer);
  jobTimer = setInterval(async () => {
    try {
      const p = await api.jobProgress(job);
      $('job-bar').max = Math.max(p.total, 1);
      $('job-bar').value = p.done;
      $('job-count').textContent = `${p.done} / ${p.total}` + (p.failures ? ` · ${t('{n} failed', { n: p.failures })}` : '');
    } catch { /* the next tick tries again */ }
  }, 200);
}

function endJob() {
  clearInterval(jobTimer);
  jobTimer = null;
  $('job').hidden = true;
}

/** "12 unsettled payments asked: 3 now paid · 1 now declined · 8 unchanged". */
function refreshWords(s) {
  const parts = Object.entries(s.outcomes ?? {}).map(([status, n]) => t('{n} now {status}', { n, status: statusLabel(status).toLowerCase() }));
  parts.push(t('{n} unchanged', { n: s.unchanged }));
  if (s.unreachable) parts.push(t('{n} unreachable (left as they were)', { n: s.unreachable }));
  if (s.failed) parts.push(t('{n} failed (see their history)', { n: s.failed }));
  const head = s.total
    ? t('{total} unsettled payments asked', { total: s.total })
    : t('No unsettled payments in this filter');
  return `${s.cancelled ? t('Stopped: ') : ''}${head}${s.total ? `: ${parts.join(' · ')}` : ''}.`;
}

async function refreshAll() {
  $('tx-banner').hidden = true;
  watchJob('refresh', t('Refreshing unsettled payments…'));
  try {
    const s = await api.refreshUnsettled(currentQuery());
    banner(refreshWords(s), s.unreachable || s.failed ? 'error' : 'ok');
    $('tx-banner').dataset.outcomes = JSON.stringify({ ...(s.outcomes ?? {}), unchanged: s.unchanged, unreachable: s.unreachable, failed: s.failed });
  } catch (err) {
    banner(api.describeError(err), 'error');
  } finally {
    endJob();
    load();
  }
}

async function exportFiltered() {
  const format = $('tx-export-format').value;
  let path;
  try {
    path = await api.chooseExportFile(format);
  } catch (err) {
    tell(api.describeError(err), 'error');
    return;
  }
  if (!path) return;
  await exportTo(path, format);
}

/** Writes the current filter to `path`; the Save dialog chose it (tests call it directly). */
export async function exportTo(path, format) {
  $('tx-banner').hidden = true;
  watchJob('export', t('Exporting…'));
  try {
    const s = await api.exportLedger(currentQuery(), format, path, $('tx-export-refunds').checked, $('tx-export-events').checked);
    const name = fileName(path);
    banner(t('Exported {n} payments to {file}.', { n: s.payments.toLocaleString(), file: name }), 'ok', path);
    $('tx-banner-text').title = path;
    $('tx-banner').dataset.rows = String(s.payments);
  } catch (err) {
    banner(api.describeError(err), 'error');
  } finally {
    endJob();
  }
}

function row(p) {
  const tr = el('tr', { tabindex: '0', dataset: { reference: p.reference } },
    el('td', {}, localDate(p.created_at)),
    el('td', { class: 'mono' }, p.reference),
    el('td', {}, p.profile),
    el('td', { class: 'optional' }, state.info?.providers.find((x) => x.provider === p.provider)?.label ?? p.provider),
    el('td', { class: 'optional' }, p.method === 'qr' ? t('Counter QR') : t('Payment link')),
    el('td', {}, p.vendor_label ? t(p.vendor_label) : '—'),
    el('td', { class: 'num' }, money(p.amount, p.currency)),
    el('td', {}, el('span', { class: `pill status-${p.status}`, title: p.raw_status ?? '' }, statusLabel(p.status))),
  );
  if (p.reference === selected) tr.setAttribute('aria-selected', 'true');
  tr.addEventListener('click', () => showDetail(p.reference));
  tr.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') showDetail(p.reference);
    if (e.key === 'Escape' && !$('tx-detail').hidden) closeDetail();
    // Up and down walk the list, the detail following.
    const next = e.key === 'ArrowDown' ? tr.nextElementSibling : e.key === 'ArrowUp' ? tr.previousElementSibling : null;
    if (next) {
      e.preventDefault();
      next.focus();
      showDetail(next.dataset.reference);
    }
  });
  return tr;
}

/** The chosen row stands out, and stays in view beside the panel. */
function markSelected() {
  for (const tr of $('tx-rows').querySelectorAll('tr[aria-selected]')) tr.removeAttribute('aria-selected');
  const tr = selected && [...$('tx-rows').children].find((r) => r.dataset.reference === selected);
  if (tr) tr.setAttribute('aria-selected', 'true');
}

/** The panel starts level with the list and stays in the window as it scrolls: the filters,
 * the toolbar and its banners above it are never covered. */
function placeDetail() {
  const panel = $('tx-detail');
  if (panel.hidden) return;
  panel.style.top = `${Math.max(0, Math.round($('tx-table').getBoundingClientRect().top))}px`;
}

function closeDetail() {
  $('tx-detail').hidden = true;
  selected = null;
  markSelected();
  untell();
}

/** `keepInputs`: a pushed update, which must not overwrite amounts being typed. */
async function showDetail(reference, keepInputs = false) {
  if (selected !== reference) untell();
  selected = reference;
  markSelected();
  try {
    const detail = await api.paymentDetail(reference);
    selectedDetail = detail;
    const { payment, events } = detail;
    const cur = payment.currency;
    // Money taken, never the amount asked: a partial capture says what was captured of it.
    const taken = payment.paid_amount
      ? t('{paid} of {amount}', { paid: money(payment.paid_amount, cur), amount: money(payment.amount, cur) })
      : money(payment.amount, cur);
    $('detail-title').textContent = payment.status === 'partially_captured'
      ? t('Partly captured {captured} of {amount}', { captured: money(detail.captured, cur), amount: money(payment.amount, cur) })
      : `${money(payment.amount, cur)} · ${statusLabel(payment.status)}`;
    const fields = [
      ['Reference', payment.reference], ['Transaction no.', payment.transaction_no ?? '—'],
      ['Profile', payment.profile], ['Provider', payment.provider], ['Wallet', payment.vendor_label ? t(payment.vendor_label) : '—'],
      ['Method', payment.method === 'qr' ? t('Counter QR') : t('Payment link')], ['Customer', payment.customer_no ?? '—'],
      ['Paid', payment.paid || payment.paid_amount ? taken : '—'],
      ...(payment.balances
        ? [['Authorized', money(payment.balances.authorized, cur)], ['Captured', money(payment.balances.captured, cur)],
          ['Capturable', money(payment.balances.capturable, cur)]]
        : []),
      ['Refunded', money(detail.refunded, cur)], ['Remaining', money(detail.refundable, cur)],
      ['Provider status', payment.raw_status ?? '—'], ['Created', localDate(payment.created_at)],
      ['Updated', localDate(payment.updated_at)],
    ];
    $('detail-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', { dataset: { field: k.toLowerCase() } }, v)]));
    showActions(detail, keepInputs);
    $('detail-events').replaceChildren(...history(events, payment));
    $('detail-print').hidden = !payment.paid;
    $('tx-detail').hidden = false;
    placeDetail();
  } catch (err) {
    tell(api.describeError(err), 'error');
  }
}

/** One step of a payment's history in words. */
const MOVEMENT_WORDS = {
  capture: {
    created: 'Capture {reference} recorded, about to be sent', sent: 'Capture {reference} sent',
    unknown: 'Capture {reference} not confirmed; refresh to settle it', succeeded: 'Capture {reference} done',
    failed: 'Capture {reference} did not happen',
  },
  void: {
    created: 'Void {reference} recorded, about to be sent', sent: 'Void {reference} sent',
    unknown: 'Void {reference} not confirmed; refresh to settle it', succeeded: 'Void {reference} done',
    failed: 'Void {reference} did not happen',
  },
};

function say(e, provider) {
  const d = e.detail ?? {};
  switch (e.kind) {
    case 'created': return t('Recorded before sending');
    case 'request': return t('Asked {provider} ({what})', { provider, what: String(d.path ?? '').split('/').pop() });
    case 'response': return t('{provider} answered', { provider }) + (d.http_status ? ` (HTTP ${d.http_status})` : '');
    case 'status_changed': return t('Status: {from} → {to}', { from: statusLabel(d.from), to: statusLabel(d.to) }) + (d.raw ? ` (${provider}: ${d.raw})` : '');
    case 'ipn': return t('Notification from {provider}', { provider });
    case 'ipn_rejected': return t('A notification was refused: {reason}', { reason: d.reason ?? t('not verified') });
    case 'suspicious': return t('Not applied, suspicious: {reason}', { reason: d.reason ?? '' });
    case 'error': return t('Failed: {message}', { message: d.message ?? '' });
    case 'refund_created': return t('Refund recorded, about to be sent');
    case 'refund_finished': return t('Refund {status}', { status: d.status ? statusLabel(d.status) : t('finished') });
    case 'unknown_status': return t('The provider says {raw}; not applied', { raw: d.raw ?? '' });
    case 'rest_requested': return t('The rest ({amount}) asked in {reference}', { amount: d.amount ?? '', reference: d.reference ?? '' });
    case 'rest_of': return t('Collects the rest of {reference}', { reference: d.reference ?? '' });
    default: {
      // Captures and voids: recorded, sent, then settled by an explicit answer or a query.
      const movement = /^(capture|void)_(created|sent|unknown|succeeded|failed)$/.exec(e.kind);
      if (movement) return t(MOVEMENT_WORDS[movement[1]][movement[2]], { reference: d.reference ?? '' });
      return e.kind.replaceAll('_', ' ');
    }
  }
}

/**
 * The history as a person reads it: one line a step, the raw detail behind a toggle, and
 * runs of status questions that changed nothing folded into one line.
 */
function history(events, payment) {
  const provider = state.info?.providers.find((x) => x.provider === payment.provider)?.label ?? payment.provider;
  const isPoll = (e) => (e.kind === 'request' || e.kind === 'response') && /query|tran-query|queryPayInResult/i.test(String(e.detail?.path ?? ''));
  const items = [];
  for (let i = 0; i < events.length; i++) {
    if (isPoll(events[i])) {
      let j = i;
      while (j + 1 < events.length && isPoll(events[j + 1])) j++;
      const asked = events.slice(i, j + 1).filter((e) => e.kind === 'request').length;
      if (asked > 1) {
        items.push(el('li', { class: 'folded' }, el('time', {}, localDate(events[j].at)), ' ',
          t('Asked {provider} for the status {n} times; nothing changed', { provider, n: asked })));
        i = j;
        continue;
      }
    }
    const e = events[i];
    const raw = el('details', {}, el('summary', {}, t('details')), el('pre', {}, JSON.stringify(e.detail, null, 2)));
    items.push(el('li', { dataset: { kind: e.kind } }, el('time', {}, localDate(e.at)), ' ', say(e, provider), ' ', raw));
  }
  return items;
}

// Refund and cancel: only what the status allows, each confirmed with the amount shown.
function showActions(detail, keepInputs = false) {
  const can = (a) => detail.actions.includes(a);
  $('action-refund').hidden = !can('refund');
  $('refund-field').hidden = !can('refund');
  if (keepInputs) {
    $('tx-detail').dataset.actions = detail.actions.join(' ');
    return;
  }
  $('refund-amount').value = detail.refundable;
  $('refund-currency').textContent = detail.payment.currency;
  $('action-cancel').hidden = !can('cancel');
  $('action-capture').hidden = !can('capture');
  $('capture-field').hidden = !can('capture');
  $('capture-final-field').hidden = !can('capture');
  $('capture-amount').value = detail.capturable;
  $('capture-currency').textContent = detail.payment.currency;
  $('capture-final').checked = false;
  $('action-void').hidden = !can('void');
  $('confirm').hidden = true;
  pendingAction = null;
  $('tx-detail').dataset.actions = detail.actions.join(' ');
  $('tx-detail').dataset.reference = detail.payment.reference;
  $('tx-detail').dataset.currency = detail.payment.currency;
}

function ask(text, run, done) {
  untell();
  pendingAction = { run, done };
  $('confirm-text').textContent = text;
  $('confirm').hidden = false;
  $('confirm-yes').focus();
}

async function runPending() {
  if (!pendingAction) return;
  const { run, done } = pendingAction;
  pendingAction = null;
  const yes = $('confirm-yes');
  yes.disabled = true;
  yes.textContent = t('Working…');
  let outcome;
  try {
    outcome = ['ok', done(await run())];
  } catch (err) {
    outcome = ['error', api.describeError(err)];
  } finally {
    yes.disabled = false;
    yes.textContent = t('Confirm');
    $('confirm').hidden = true;
  }
  await showDetail(selected);
  await load();
  tell(outcome[1], outcome[0]);
}

/** Checks the refund amount against what is left, before anything is asked. */
function refundAmount() {
  const cur = $('tx-detail').dataset.currency;
  const exp = exponentOf(cur);
  const typed = $('refund-amount').value;
  const parsed = parseAmount(typed, exp);
  if (parsed.error) return { error: `${t('Refund amount')}: ${parsed.error}` };
  const left = parseAmount(selectedDetail?.refundable ?? '0', exp).minor ?? 0n;
  if (parsed.minor > left) {
    return { error: `${t('Refund amount')}: ${t('{amount} is more than the {left} still refundable.', { amount: money(minorToDecimal(parsed.minor, exp), cur), left: money(selectedDetail.refundable, cur) })}` };
  }
  return { text: money(minorToDecimal(parsed.minor, exp), cur), amount: minorToDecimal(parsed.minor, exp) };
}

export function initTransactions() {
  // Every status the state machine has, in a payment's order of life.
  $('tx-status').append(...statusNames.map((name) => new Option(statusLabel(name), name)));
  $('action-refund').addEventListener('click', () => {
    const checked = refundAmount();
    if (checked.error) { tell(checked.error, 'error'); $('refund-amount').focus(); return; }
    ask(t('Refund {amount} of {reference}?', { amount: checked.text, reference: selected }), () => api.refundPayment(selected, checked.amount),
      (r) => `${t('Refunded {amount} of {reference}.', { amount: checked.text, reference: r.payment.reference })} ${r.payment.status === 'refunded' ? t('Nothing is left to refund.') : t('The rest can still be refunded.')}`);
  });
  $('action-cancel').addEventListener('click', () => {
    const p = selectedDetail.payment;
    ask(t('Cancel {reference} ({amount})? The customer will no longer be able to pay it.', { reference: p.reference, amount: money(p.amount, p.currency) }),
      () => api.cancelPayment(selected), (v) => t('Cancelled {reference} ({amount}).', { reference: v.reference, amount: money(v.amount, v.currency) }));
  });
  $('action-capture').addEventListener('click', () => {
    const p = selectedDetail.payment;
    const exp = exponentOf(p.currency);
    const parsed = parseAmount($('capture-amount').value, exp);
    if (parsed.error) { tell(`${t('Capture amount')}: ${parsed.error}`, 'error'); $('capture-amount').focus(); return; }
    const left = parseAmount(selectedDetail.capturable, exp).minor ?? 0n;
    if (parsed.minor > left) {
      tell(`${t('Capture amount')}: ${t('{amount} is more than the {left} that can still be captured.', { amount: money(minorToDecimal(parsed.minor, exp), p.currency), left: money(minorToDecimal(left, exp), p.currency) })}`, 'error');
      return;
    }
    const amount = minorToDecimal(parsed.minor, exp);
    const last = $('capture-final').checked;
    ask(last ? t('Capture {amount} of {reference} and release the rest?', { amount: money(amount, p.currency), reference: p.reference }) : t('Capture {amount} of {reference}?', { amount: money(amount, p.currency), reference: p.reference }),
      () => api.capturePayment(p.reference, amount, last), (v) => t('Captured {amount} of {reference}.', { amount: money(amount, v.currency), reference: v.reference }));
  });
  $('action-void').addEventListener('click', () => {
    const p = selectedDetail.payment;
    const rest = money(selectedDetail.capturable, p.currency);
    ask(p.status === 'partially_captured'
      ? t('Void the rest of {reference} ({amount})? What was captured stays; the rest is released.', { reference: p.reference, amount: rest })
      : t('Void {reference} ({amount})? The authorization is released; nothing is charged.', { reference: p.reference, amount: rest }),
      () => api.voidPayment(p.reference), (v) => t('Voided {reference} ({amount}).', { reference: v.reference, amount: money(v.amount, v.currency) }));
  });
  $('action-message-close').addEventListener('click', untell);
  $('detail-print').addEventListener('click', async () => {
    try {
      await printHtml(await api.printPage(selected, 'receipt', localStorage.getItem('paydesk.paper') ?? '80mm'));
    } catch (err) {
      tell(api.describeError(err), 'error');
    }
  });
  $('confirm-yes').addEventListener('click', runPending);
  $('confirm-no').addEventListener('click', () => { pendingAction = null; $('confirm').hidden = true; });
  let debounce;
  const reload = () => load();
  $('tx-search').addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(reload, 150); });
  for (const id of ['tx-status', 'tx-provider', 'tx-profile', 'tx-from', 'tx-to']) $(id).addEventListener('change', reload);
  $('tx-shop').addEventListener('change', () => { $('tx-shop').dataset.chosen = 'true'; reload(); });
  $('tx-period').addEventListener('change', () => {
    for (const l of document.querySelectorAll('.custom-dates')) l.hidden = $('tx-period').value !== 'custom';
    reload();
  });
  $('tx-filters').addEventListener('submit', (e) => { e.preventDefault(); reload(); });
  $('tx-more').addEventListener('click', () => load(true));
  $('tx-refresh-all').addEventListener('click', refreshAll);
  $('tx-export').addEventListener('click', exportFiltered);
  $('job-cancel').addEventListener('click', () => api.cancelJob($('job').dataset.job).catch(() => {}));
  $('detail-close').addEventListener('click', closeDetail);
  $('tx-detail').addEventListener('keydown', (e) => { if (e.key === 'Escape' && $('confirm').hidden) closeDetail(); });
  $('tx-banner-close').addEventListener('click', () => { $('tx-banner').hidden = true; placeDetail(); });
  window.addEventListener('scroll', placeDetail, { passive: true });
  window.addEventListener('resize', placeDetail);
  $('tx-banner-open').addEventListener('click', async () => {
    try {
      await api.showExportedFile($('tx-banner-open').dataset.path);
    } catch (err) {
      banner(api.describeError(err), 'error');
    }
  });
  $('detail-refresh').addEventListener('click', async () => {
    if (!selected) return;
    const b = $('detail-refresh');
    b.disabled = true;
    b.textContent = t('Refreshing…');
    let failed = null;
    try {
      await api.refreshPayment(selected);
    } catch (err) {
      failed = api.describeError(err);
    } finally {
      b.disabled = false;
      b.textContent = t('Refresh status');
    }
    await showDetail(selected);
    await load();
    if (failed) tell(failed, 'error');
  });
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'transactions') { fillFilterChoices(); load(); } });
  // A payment changed (a notification, a refresh elsewhere): the list and totals follow.
  let pushedReload;
  api.onPaymentChanged((p) => {
    if ($('view-transactions').hidden) return;
    clearTimeout(pushedReload);
    pushedReload = setTimeout(() => {
      load();
      if (selected === p.reference && !$('tx-detail').hidden && $('confirm').hidden) showDetail(selected, true);
    }, 200);
  }).catch(() => {});
  // The shared ledger came back after an outage: read the list again.
  api.onEvent('ledger-changed', () => { if (!$('view-transactions').hidden) load(); }).catch(() => {});
}
