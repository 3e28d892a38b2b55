// The accountant's ledger: filter, totals, row detail with the full history.
import * as api from './api.js';
import { el, localDate, minorToDecimal, STATUS_LABELS } from './format.js';
import { exponentOf } from './state.js';

const $ = (id) => document.getElementById(id);
let selected = null;
let pendingAction = null;

function totals(rows) {
  const sums = new Map();
  for (const r of rows) sums.set(r.currency, (sums.get(r.currency) ?? 0n) + BigInt(r.amount_minor));
  const parts = [...sums].map(([cur, minor]) => `${minorToDecimal(minor, exponentOf(cur))} ${cur}`);
  return `${rows.length} payment${rows.length === 1 ? '' : 's'}` + (parts.length ? ` · ${parts.join(' · ')}` : '');
}

async function load() {
  $('tx-error').hidden = true;
  try {
    const rows = await api.listPayments({ text: $('tx-search').value, status: $('tx-status').value });
    $('tx-totals').textContent = totals(rows);
    $('tx-rows').replaceChildren(...rows.map(row));
  } catch (err) {
    $('tx-error').hidden = false;
    $('tx-error').textContent = api.describeError(err);
  }
}

function row(p) {
  const tr = el('tr', { tabindex: '0', dataset: { reference: p.reference } },
    el('td', {}, localDate(p.created_at)),
    el('td', { class: 'mono' }, p.reference),
    el('td', {}, p.provider),
    el('td', {}, p.vendor_label ?? p.method),
    el('td', { class: 'num' }, `${p.amount} ${p.currency}`),
    el('td', {}, el('span', { class: `pill status-${p.status}`, title: p.raw_status ?? '' }, STATUS_LABELS[p.status] ?? p.status)),
  );
  tr.addEventListener('click', () => showDetail(p.reference));
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') showDetail(p.reference); });
  return tr;
}

async function showDetail(reference) {
  selected = reference;
  try {
    const detail = await api.paymentDetail(reference);
    const { payment, events } = detail;
    $('detail-title').textContent = `${payment.amount} ${payment.currency} · ${STATUS_LABELS[payment.status] ?? payment.status}`;
    const fields = [
      ['Reference', payment.reference], ['Transaction no.', payment.transaction_no ?? '—'],
      ['Profile', payment.profile], ['Provider', payment.provider], ['Wallet', payment.vendor_label ?? '—'],
      ['Method', payment.method === 'qr' ? 'Counter QR' : 'Payment link'], ['Customer', payment.customer_no ?? '—'],
      ['Provider status', payment.raw_status ?? '—'], ['Created', localDate(payment.created_at)],
      ['Updated', localDate(payment.updated_at)],
    ];
    $('detail-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    showActions(detail);
    $('detail-events').replaceChildren(...events.map((e) => el('li', {},
      el('span', { class: 'event-kind' }, e.kind), ' ', el('time', {}, localDate(e.at)),
      el('pre', {}, JSON.stringify(e.detail, null, 2)))));
    $('tx-detail').hidden = false;
  } catch (err) {
    $('tx-error').hidden = false;
    $('tx-error').textContent = api.describeError(err);
  }
}

// Refund and cancel: only what the status allows, each confirmed with the amount shown.
function showActions(detail) {
  const can = (a) => detail.actions.includes(a);
  $('action-refund').hidden = !can('refund');
  $('refund-field').hidden = !can('refund');
  $('refund-amount').value = detail.refundable;
  $('refund-currency').textContent = detail.payment.currency;
  $('action-cancel').hidden = !can('cancel');
  $('confirm').hidden = true;
  pendingAction = null;
  $('tx-detail').dataset.actions = detail.actions.join(' ');
  $('tx-detail').dataset.reference = detail.payment.reference;
  $('tx-detail').dataset.currency = detail.payment.currency;
}

function ask(text, action) {
  pendingAction = action;
  $('confirm-text').textContent = text;
  $('confirm').hidden = false;
  $('confirm-yes').focus();
}

async function runPending() {
  if (!pendingAction) return;
  const action = pendingAction;
  pendingAction = null;
  const yes = $('confirm-yes');
  yes.disabled = true;
  yes.textContent = 'Working…';
  try {
    await action();
    $('tx-error').hidden = true;
  } catch (err) {
    $('tx-error').hidden = false;
    $('tx-error').textContent = api.describeError(err);
  } finally {
    yes.disabled = false;
    yes.textContent = 'Confirm';
    $('confirm').hidden = true;
  }
  await showDetail(selected);
  await load();
}

export function initTransactions() {
  $('action-refund').addEventListener('click', () => {
    const amount = $('refund-amount').value.trim();
    const cur = $('tx-detail').dataset.currency;
    ask(`Refund ${amount} ${cur} of ${selected}?`, () => api.refundPayment(selected, amount));
  });
  $('action-cancel').addEventListener('click', () => {
    ask(`Cancel ${selected}? The customer will no longer be able to pay it.`, () => api.cancelPayment(selected));
  });
  $('confirm-yes').addEventListener('click', runPending);
  $('confirm-no').addEventListener('click', () => { pendingAction = null; $('confirm').hidden = true; });
  let debounce;
  $('tx-search').addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(load, 150); });
  $('tx-status').addEventListener('change', load);
  $('tx-reload').addEventListener('click', load);
  $('detail-close').addEventListener('click', () => { $('tx-detail').hidden = true; selected = null; });
  $('detail-refresh').addEventListener('click', async () => {
    if (!selected) return;
    const b = $('detail-refresh');
    b.disabled = true;
    b.textContent = 'Refreshing…';
    try {
      await api.refreshPayment(selected);
    } catch (err) {
      $('tx-error').hidden = false;
      $('tx-error').textContent = api.describeError(err);
    } finally {
      b.disabled = false;
      b.textContent = 'Refresh status';
    }
    await showDetail(selected);
    await load();
  });
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'transactions') load(); });
}
