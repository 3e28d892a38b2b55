// The counter: type an amount, Enter makes the QR, the screen follows the payment.
import * as api from './api.js';
import { printHtml } from './printing.js';
import { clearFieldErrors, el, groupThousands, money, problemsOf, showFieldErrors, statusLabel } from './format.js';
import { t } from './i18n.js';
import { exponentOf, offers, provider, state } from './state.js';

const $ = (id) => document.getElementById(id);
// Status is pushed (payment-changed); polling is only a fallback, slower as a sale waits.
const POLL_FIRST_MS = 3000;
const POLL_MAX_MS = 15000;

let typed = '';
let method = 'qr';
let sale = null;      // { payment, startedAt }
let pollTimer = null;
let clockTimer = null;
let busy = false;
// Each Enter's sale, numbered; Esc while it is being made cancels that one: its answer, when
// it comes, never shows a QR (the sale is cancelled at the provider, or watched).
let createSeq = 0;
let cancelledSeq = 0;
// A payment recorded (and maybe at the provider) whose create got no usable answer: Enter
// and "Try again" resend exactly it, never a new one.
let kept = null;
// Sales left while waiting that could not be cancelled: watched, so a late payment is
// never missed.
const abandoned = new Map();
let watchTimer = null;
const WATCH_MS = 3000;
// What an unpaid ending means, in the words said to the customer.
const OUTCOME_WORDS = {
  failed: () => t('Declined: no money moved. Ask the customer for another way to pay.'),
  expired: () => t('Expired: the customer did not pay in time. No money moved.'),
  cancelled: () => t('Cancelled: no money moved.'),
  refunded: () => t('Refunded in full.'),
  partially_refunded: () => t('Partly refunded.'),
};

function renderAmount() {
  $('amount-display').textContent = typed === '' ? '0' : groupThousands(typed);
  $('amount-display').dataset.amount = typed;
  $('amount-display').classList.toggle('placeholder', typed === '');
  // A currency without decimals (TWD, JPY) has no point to press.
  document.querySelector('.keypad [data-key="."]')?.classList.toggle('unused', exponentOf($('currency').value) === 0);
}

/** Keeps the typed amount when the currency changes, cut to the digits it allows. */
function fitAmountToCurrency() {
  const exp = exponentOf($('currency').value);
  if (!typed.includes('.')) return;
  const [whole, frac] = typed.split('.');
  typed = exp === 0 ? whole : `${whole}.${frac.slice(0, exp)}`;
}

function press(key) {
  // Typing starts another sale: the kept one is let go (cancelled, or watched).
  if (kept) letGoOfKept();
  const exp = exponentOf($('currency').value);
  if (key === 'Backspace') typed = typed.slice(0, -1);
  else if (key === '.') { if (exp > 0 && !typed.includes('.')) typed = (typed || '0') + '.'; }
  else if (/^[0-9]$/.test(key)) {
    const [, frac] = typed.split('.');
    if (frac !== undefined && frac.length >= exp) return;
    if (typed === '0') typed = '';
    // Ten digits before the point at most; decimals are still welcome after them.
    if (frac === undefined && typed.length >= 10) return;
    typed += key;
  }
  hideError();
  renderAmount();
}

// `retryReference`: a payment that is kept and can be sent again as it is.
function showError(message, retryReference = null) {
  const e = $('counter-error');
  e.textContent = message;
  e.hidden = false;
  kept = retryReference;
  labelCreate();
}

function hideError() {
  $('counter-error').hidden = true;
  clearFieldErrors($('payer'));
  labelCreate();
}

/** One button per action: while a payment is kept, the main button resends exactly it. */
function labelCreate() {
  $('create-label').textContent = kept ? t('Try again') : method === 'link' ? t('Create link') : t('Create QR');
  $('create').dataset.reference = kept ?? '';
}

function letGoOfKept() {
  const reference = kept;
  kept = null;
  hideError();
  if (reference) abandon({ reference, amount: null, currency: null });
}

async function retry() {
  const reference = kept;
  if (!reference || busy) return;
  busy = true;
  $('create').disabled = true;
  $('create').classList.add('working');
  try {
    await showSale(await api.retryPayment(reference));
    kept = null;
    hideError();
  } catch (err) {
    // Still no usable answer: the same payment stays the one to resend.
    showError(api.describeError(err), keptReference(err) ?? reference);
  } finally {
    busy = false;
    $('create').disabled = false;
    $('create').classList.remove('working');
  }
}

/** The payment an error says is kept (it exists in the ledger and maybe at the provider). */
function keptReference(err) {
  return ['provider_unreachable', 'provider_protocol', 'storage'].includes(err?.kind) ? err.reference ?? null : null;
}

/**
 * Leaves a sale that was not paid: cancelled at the provider where it can be; otherwise
 * watched, so that if the customer pays it after all, the counter says so.
 */
async function abandon(payment) {
  try {
    const after = await api.cancelPayment(payment.reference);
    if (after.status === 'cancelled' || after.status === 'expired') return;
    watch(after);
  } catch (err) {
    watch(payment);
    if (err?.kind === 'not_allowed') checkAbandoned();
  }
}

function watch(payment) {
  abandoned.set(payment.reference, payment);
  if (!watchTimer) watchTimer = setInterval(checkAbandoned, WATCH_MS);
}

async function checkAbandoned() {
  for (const reference of [...abandoned.keys()]) {
    try {
      const p = await api.pollPayment(reference);
      if (p.paid) {
        abandoned.delete(reference);
        lateAlert(p);
      } else if (!p.open) {
        abandoned.delete(reference);
      }
    } catch {
      // Keep watching; the provider may be back on the next round.
    }
  }
  if (abandoned.size === 0) { clearInterval(watchTimer); watchTimer = null; }
}

/** PAID heard (a chime, if on in Settings) and, when the window is behind others, seen. */
function announce(payment) {
  let sound = true;
  try { sound = localStorage.getItem('paydesk.sound') !== 'off'; } catch { /* storage off */ }
  if (sound) $('outcome').dataset.chimed = String(api.chime());
  if (document.hidden || !document.hasFocus()) {
    api.notifyPaid(t('Paid: {amount}', { amount: money(payment.amount, payment.currency) }), `${payment.vendor_label ? t(payment.vendor_label) : payment.provider} · ${payment.reference}`).catch(() => {});
  }
}

function lateAlert(p) {
  api.notifyPaid(t('Paid after it was left: {amount}', { amount: money(p.amount, p.currency) }), t('{reference} — give the goods, or refund it', { reference: p.reference })).catch(() => {});
  const box = el('div', { class: 'notice', role: 'alert', 'data-kind': 'error', 'data-reference': p.reference },
    el('span', {}, t('Paid after it was abandoned: {amount} ({wallet}, {reference}). Give the goods, or refund it in Transactions.', { amount: money(p.amount, p.currency), wallet: p.vendor_label ? t(p.vendor_label) : p.method, reference: p.reference })),
    el('button', { type: 'button', class: 'secondary' }, t('Dismiss')));
  box.querySelector('button').addEventListener('click', () => box.remove());
  $('late-alerts').append(box);
}

/** Esc while the provider is being asked: that sale is cancelled, and said so. */
function cancelCreate() {
  cancelledSeq = createSeq;
  sayCancelled(t('Sale cancelled'));
}

/** Said on the empty counter for a few seconds: the sale left is not waiting any more. */
function sayCancelled(text) {
  const said = $('sale-cancelled');
  said.textContent = text;
  said.hidden = false;
  clearTimeout(sayCancelled.timer);
  sayCancelled.timer = setTimeout(() => { said.hidden = true; }, 4000);
}

/** Demo mode's Pay / Decline: pressed once per sale, offered again if it failed. */
function demoButtonsEnabled(enabled) {
  for (const b of $('demo-pay').querySelectorAll('button')) b.disabled = !enabled;
}

function setScreen(name) {
  $('entry').hidden = name !== 'entry';
  $('sale').hidden = name !== 'sale';
  $('outcome').hidden = name !== 'outcome';
}

/** `rest`: the partly paid sale whose rest this sale collects (its amount already typed). */
async function create(rest = null) {
  if (kept && !rest) return retry();
  if (busy) return;
  busy = true;
  const button = $('create');
  button.disabled = true;
  button.classList.add('working');
  hideError();
  // A slow provider: say whom we wait for, and how long, from the first moment.
  const label = provider()?.label ?? t('the provider');
  const started = Date.now();
  const working = $('working');
  const tickWorking = () => { working.textContent = t('Contacting {provider}… {seconds} s', { provider: label, seconds: ((Date.now() - started) / 1000).toFixed(1) }); };
  tickWorking();
  working.hidden = false;
  const workingTimer = setInterval(tickWorking, 100);
  const seq = ++createSeq;
  const asked = typed;
  // Cancelled with Esc, or the amount typed again since Enter: this answer is not shown.
  const stale = () => cancelledSeq === seq || typed !== asked;
  const options = saleOptions();
  try {
    const result = await api.createPayment({
      profile: state.profile.name,
      amount: typed,
      currency: $('currency').value,
      wallet: $('wallet').value,
      method,
      customer_no: method === 'link' && !$('customer-field').hidden ? ($('customer').value || null) : null,
      ...options,
      // The rest of a partly paid sale: linked to it, its payer reused by the core.
      ...(rest ? { currency: rest.currency, wallet: rest.vendor ?? '', payer: null, rest_of: rest.reference } : {}),
    });
    if (stale()) {
      abandon(result.payment);
      return;
    }
    await showSale(result);
    // What this sale does beyond taking money, in words, on the QR screen.
    const terms = [
      options.capture === 'manual' ? t('Authorize only: the money is held until you capture it in Transactions.') : null,
      options.save_card ? t('The card will be kept for shopper {shopper}.', { shopper: options.shopper_reference ?? '' }) : null,
      rest ? t('Collects the rest of {reference}.', { reference: rest.reference }) : null,
    ].filter(Boolean);
    $('sale-terms').textContent = terms.join(' ');
    $('sale-terms').hidden = !terms.length;
    // The payer is kept in the ledger (by the core, with the sale); the screen forgets them.
    clearPayer();
    // The shopper and their card belong to this sale; how the shop captures stays.
    $('shopper-reference').value = '';
    $('save-card').checked = false;
  } catch (err) {
    if (stale()) {
      // Nothing to resend for a sale the cashier cancelled: left like an abandoned one.
      const reference = keptReference(err);
      if (reference) abandon({ reference, amount: null, currency: null });
      return;
    }
    if (!showPayerProblems(err)) showError(api.describeError(err), keptReference(err));
  } finally {
    clearInterval(workingTimer);
    working.hidden = true;
    busy = false;
    button.disabled = false;
    button.classList.remove('working');
  }
}

// The payer, where the provider must know who pays: the fields, by id.
const PAYER_INPUTS = {
  mobile: 'payer-mobile', first_name: 'payer-first-name', last_name: 'payer-last-name', email: 'payer-email',
  bank_number: 'payer-bank-number', way_code: 'payer-way-code', postcode: 'payer-postcode', address: 'payer-address',
};

/** The payer's problems, each under its field; true when every one found its field. */
function showPayerProblems(err) {
  const problems = problemsOf(err);
  if ($('payer').hidden || !problems.length) return false;
  const inputOf = (field) => (field === 'channel' ? $('payer-channel') : PAYER_INPUTS[field] ? $(PAYER_INPUTS[field]) : null);
  const unplaced = showFieldErrors($('payer'), problems, inputOf);
  if (unplaced.length === problems.length) return false;
  showError(unplaced.length
    ? unplaced.map((p) => p.message).join(' ')
    : problems.length > 1
      ? t('{n} payer details need fixing; each is marked under its field.', { n: problems.length })
      : t('The payer detail marked below needs fixing.'));
  return true;
}
/** Where an older counter kept payers (in the web view); moved into the ledger once. */
const OLD_PAYERS_KEY = 'paydesk.payers';

async function moveOldPayers() {
  let old = null;
  try { old = localStorage.getItem(OLD_PAYERS_KEY); } catch { return; }
  if (!old) return;
  try {
    const payers = Object.values(JSON.parse(old) ?? {}).map(({ at, ...payer }) => payer);
    await api.importPayers(payers);
  } catch { /* unreadable: dropped, never kept in the web view */ }
  try { localStorage.removeItem(OLD_PAYERS_KEY); } catch { /* storage off */ }
}

/** A returning payer: the ledger keeps them by mobile number; the exact number recalls them. */
let recalling = 0;
async function recallPayer() {
  const mobile = $('payer-mobile').value.trim();
  const asked = ++recalling;
  $('payer-said').textContent = '';
  if (mobile.length < 8) return;
  try {
    const known = await api.recallPayer(mobile);
    if (known && asked === recalling && $('payer-mobile').value.trim() === mobile) {
      showPayer({ ...known, channel: $('payer-channel').value });
      $('payer-said').textContent = t('Filled in from the last sale to this number.');
    }
  } catch { /* typed by hand, then */ }
}

/** After each sale the payer's details leave the screen (the next customer sees none). */
function clearPayer() {
  for (const id of Object.values(PAYER_INPUTS)) $(id).value = '';
  clearFieldErrors($('payer'));
  $('payer-said').textContent = '';
}

async function forgetPayer() {
  const mobile = $('payer-mobile').value.trim();
  if (!mobile) return;
  try {
    const forgotten = await api.forgetPayer(mobile);
    clearPayer();
    $('payer-said').textContent = forgotten ? t('Forgotten: this number is no longer kept.') : t('Nothing was kept for this number.');
  } catch (err) {
    $('payer-said').textContent = api.describeError(err);
  }
}

function showPayer(payer) {
  if (!payer) return;
  if (payer.channel && [...$('payer-channel').options].some((o) => o.value === payer.channel)) $('payer-channel').value = payer.channel;
  for (const [field, id] of Object.entries(PAYER_INPUTS)) $(id).value = payer[field] ?? '';
  fitPayerChannel();
}

/** Shows the payer fields the chosen channel needs, and only those. */
function fitPayerChannel() {
  const p = provider();
  const channel = p?.payer_channels.find((c) => c.code === $('payer-channel').value);
  const wanted = new Set(['channel', ...(p?.payer_fields ?? []), ...(channel?.needs ?? [])]);
  for (const label of document.querySelectorAll('.payer-field')) label.hidden = !wanted.has(label.dataset.field);
}

function payerOf() {
  if ($('payer').hidden) return null;
  const payer = { channel: $('payer-channel').value };
  for (const [field, id] of Object.entries(PAYER_INPUTS)) {
    if (!$(id).closest('.payer-field').hidden && $(id).value.trim()) payer[field] = $(id).value.trim();
  }
  return payer;
}

/** Manual capture and cards on file, where the profile's provider offers them. */
function saleOptions() {
  const shopper = $('shopper-field').hidden ? '' : $('shopper-reference').value.trim();
  return {
    capture: !$('manual-capture-field').hidden && $('manual-capture').checked ? 'manual' : null,
    shopper_reference: shopper || null,
    save_card: !$('save-card-field').hidden && $('save-card').checked,
    payer: payerOf(),
  };
}

async function showSale({ payment, qr_png }) {
  sale = { payment, startedAt: Date.now() };
  $('sale-terms').hidden = true;
  $('sale-amount').textContent = money(payment.amount, payment.currency);
  const img = $('qr-img');
  img.src = qr_png;
  img.dataset.reference = payment.reference;
  // Show the sale only once the QR is decoded, so the code appears whole, at once.
  await img.decode().catch(() => {});
  $('sale-wallet').textContent = payment.method === 'qr'
    ? t('Scan with {wallet}', { wallet: payment.vendor_label ? t(payment.vendor_label) : t('a phone camera') })
    : `${payment.vendor_label ? `${t(payment.vendor_label)} · ` : ''}${t('payment link')}`;
  $('sale').dataset.method = payment.method;
  $('sale-reference').textContent = payment.reference;
  $('sale-link').textContent = payment.link ?? '';
  $('copy-link').hidden = payment.method !== 'link' || !payment.link;
  $('copy-link').textContent = t('Copy link');
  $('sale').dataset.link = payment.link ?? '';
  $('sale').dataset.transactionNo = payment.transaction_no ?? '';
  // A demo sale's QR points at the sandbox on this computer, which a phone cannot reach:
  // the cashier can play the customer from here.
  $('demo-pay').hidden = state.profile?.environment !== 'demo';
  demoButtonsEnabled(true);
  setStatus(payment);
  setScreen('sale');
  // The customer display shows the same sale (and follows it by itself from now on).
  api.showOnDisplay(payment.reference).catch(() => {});
  clearTimeout(pollTimer);
  clearInterval(clockTimer);
  schedulePoll(POLL_FIRST_MS);
  clockTimer = setInterval(tick, 5000);
  tick();
}

function schedulePoll(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    await poll();
    if (sale && $('outcome').hidden) schedulePoll(Math.min(ms * 1.5, POLL_MAX_MS));
  }, ms);
}

/** A pushed change: the sale on screen follows it at once; a watched one may alert. */
function pushed(payment) {
  if (sale && payment.reference === sale.payment.reference && $('outcome').hidden) {
    sale.payment = payment;
    setStatus(payment);
    if (!payment.waiting) finish(payment, 'push');
  } else if (abandoned.has(payment.reference)) {
    checkAbandoned();
  }
}

// How long the customer has had the QR, in whole minutes: the screen changes once a
// minute, not every second, so a sale waiting costs no more than an idle page.
function tick() {
  if (!sale) return;
  const minutes = Math.floor((Date.now() - sale.startedAt) / 60000);
  const text = minutes < 1 ? t('under a minute') : t('{n} min', { n: minutes });
  if ($('elapsed').textContent !== text) $('elapsed').textContent = text;
}

function setStatus(payment) {
  const status = $('status');
  status.dataset.status = payment.status;
  $('status-text').textContent = payment.waiting && payment.status !== 'unknown'
    ? t('Waiting for payment')
    : statusLabel(payment.status);
}

async function poll() {
  if (!sale) return;
  try {
    const payment = await api.pollPayment(sale.payment.reference);
    if (!sale || payment.reference !== sale.payment.reference) return;
    sale.payment = payment;
    setStatus(payment);
    if (!payment.waiting && $('outcome').hidden) finish(payment, 'poll');
  } catch (err) {
    $('status-text').textContent = t('Still waiting — {problem}', { problem: api.describeError(err) });
  }
}

/** `via`: what brought the news, the pushed event or the fallback poll. */
function finish(payment, via = 'poll') {
  clearTimeout(pollTimer);
  $('outcome').dataset.via = via;
  clearInterval(clockTimer);
  const outcome = $('outcome');
  delete outcome.dataset.paintedAt;
  outcome.dataset.status = payment.status;
  const paid = payment.status === 'paid';
  const authorized = payment.status === 'authorized';
  $('outcome-icon').dataset.icon = paid || authorized ? 'check' : payment.status === 'failed' ? 'cross' : 'dash';
  $('outcome-title').textContent = paid ? t('PAID') : authorized ? t('AUTHORIZED') : statusLabel(payment.status).toUpperCase();
  // What arrived, large, for a partial payment; what was asked otherwise.
  $('outcome-amount').textContent = money(payment.status === 'partially_paid' ? (payment.paid_amount ?? '0') : payment.amount, payment.currency);
  showPartialActions(payment);
  $('outcome-detail').textContent = paid
    ? [payment.vendor_label && t(payment.vendor_label), payment.reference].filter(Boolean).join(' · ')
    : authorized
      ? t('{reference} · the money is held: capture it in Transactions', { reference: payment.reference })
      : payment.status === 'partially_paid'
        ? t('{paid} of {amount} received — {due} still due · {reference}', { paid: money(payment.paid_amount ?? '0', payment.currency), amount: money(payment.amount, payment.currency), due: money(payment.due_amount ?? payment.amount, payment.currency), reference: payment.reference })
        // The provider's own word is in the row's detail, not on the counter.
        : `${OUTCOME_WORDS[payment.status]?.() ?? t('The payment did not go through.')} ${payment.reference}`;
  $('print-receipt').hidden = !paid;
  setScreen('outcome');
  // When PAID reached the screen, for the push→paint benchmark.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    outcome.dataset.paintedAt = String(performance.timeOrigin + performance.now());
  }));
  // The chime and the notification a moment later, once the frame is out (a timer, not a
  // frame callback: frames stop while the window is behind others, when it matters most).
  setTimeout(() => {
    if (!outcome.hidden) $('next-sale').focus();
    if (paid || authorized || payment.status === 'partially_paid') announce(payment);
  }, 30);
}

let partial = null; // the partly paid sale on the outcome screen

/** A partly paid sale: "Collect the rest" (a new sale for what is due, linked to it) and,
 * where the provider refunds, "Refund what arrived". */
async function showPartialActions(payment) {
  partial = payment.status === 'partially_paid' ? payment : null;
  $('partial-actions').hidden = !partial;
  $('partial-confirm').hidden = true;
  $('refund-arrived').hidden = true;
  if (!partial) return;
  $('collect-rest').textContent = t('Collect the rest ({due})', { due: money(payment.due_amount ?? payment.amount, payment.currency) });
  try {
    const detail = await api.paymentDetail(payment.reference);
    if (partial?.reference === payment.reference) $('refund-arrived').hidden = !detail.actions.includes('refund');
  } catch { /* without the detail, no refund offered here; Transactions has it */ }
}

async function collectRest() {
  const first = partial;
  if (!first) return;
  typed = first.due_amount ?? first.amount;
  renderAmount();
  if ($('currency').value !== first.currency) $('currency').value = first.currency;
  setMethod(first.method === 'link' ? 'link' : 'qr');
  if (first.vendor) $('wallet').value = first.vendor;
  setScreen('entry');
  await create(first);
}

async function refundArrived() {
  const first = partial;
  if (!first) return;
  const arrived = money(first.paid_amount ?? '0', first.currency);
  const box = $('partial-confirm');
  $('partial-confirm-text').textContent = t('Refund the {amount} that arrived to the customer?', { amount: arrived });
  box.hidden = false;
  $('partial-confirm-yes').onclick = async () => {
    box.hidden = true;
    try {
      await api.refundPayment(first.reference, first.paid_amount);
      $('outcome-detail').textContent = t('Refunded {amount} of {reference}. Nothing is due any more.', { amount: arrived, reference: first.reference });
      $('partial-actions').hidden = true;
      partial = null;
    } catch (err) {
      $('outcome-detail').textContent = api.describeError(err);
    }
  };
  $('partial-confirm-yes').focus();
}

function newSale() {
  clearTimeout(pollTimer);
  clearInterval(clockTimer);
  // Leaving a sale nobody has paid: cancel it, or keep an eye on it.
  const left = sale && sale.payment.open && $('outcome').hidden ? sale.payment : null;
  if (left) abandon(left);
  sale = null;
  partial = null;
  typed = '';
  renderAmount();
  hideError();
  setScreen('entry');
  // A paid-late sale is still caught (and alerted) by the watch on it.
  if (left) {
    sayCancelled(t('Sale cancelled: {amount} · {reference}', { amount: money(left.amount, left.currency), reference: left.reference }));
    // The customer reads it too, for a moment, then Welcome (unless a new sale is on it).
    api.showOnDisplay(left.reference, true).catch(() => {});
    clearTimeout(newSale.welcome);
    newSale.welcome = setTimeout(() => { if (!sale) api.showOnDisplay(null).catch(() => {}); }, 4000);
    return;
  }
  api.showOnDisplay(null).catch(() => {});
}

// Counter QR (the customer scans it with the wallet) or a hosted payment link.
function setMethod(next) {
  method = next;
  for (const b of document.querySelectorAll('.method')) {
    const on = b.dataset.method === method;
    b.classList.toggle('active', on);
    b.setAttribute('aria-checked', String(on));
  }
  fillWallets();
  labelCreate();
  // Registered customers attach to payment links (SecurePay customerNo).
  $('customer-field').hidden = method !== 'link' || !offers('customers');
  if (!$('customer-field').hidden) fillCustomers();
}

async function fillCustomers() {
  const select = $('customer');
  const keep = select.value;
  try {
    const customers = await api.listCustomers(state.profile?.name ?? null, null);
    select.replaceChildren(new Option(t('None'), ''), ...customers.map((c) =>
      new Option(`${c.first_name ?? ''} ${c.last_name ?? ''} · ${c.customer_no}`.trim(), c.customer_no)));
    select.value = customers.some((c) => c.customer_no === keep) ? keep : '';
  } catch {
    // The list is a convenience; the sale works without it.
  }
}

function fillWallets() {
  const v = $('wallet');
  const keep = v.value;
  const p = provider();
  const list = (method === 'qr' ? p?.counter_wallets : p?.link_wallets) ?? [];
  v.replaceChildren(...list.map((wallet) => new Option(t(wallet.label), wallet.id)));
  v.value = list.some((x) => x.id === keep) ? keep : list.some((x) => x.id === 'alipay') ? 'alipay' : (list[0]?.id ?? '');
  // A provider whose page offers its own choice asks nothing here.
  $('wallet-field').hidden = list.length === 0;
}

/** The counter offers what the profile's provider takes: its currencies, wallets and options. */
function fitToProfile() {
  const cur = $('currency');
  const keep = cur.value || 'USD';
  const currencies = provider()?.currencies ?? [];
  cur.replaceChildren(...currencies.map((c) => new Option(c.code, c.code)));
  cur.value = currencies.some((c) => c.code === keep) ? keep : (currencies.find((c) => c.code === 'USD') ?? currencies[0])?.code ?? '';
  const capture = offers('capture');
  const cards = offers('tokens');
  $('manual-capture-field').hidden = !capture;
  $('shopper-field').hidden = !cards;
  $('save-card-field').hidden = !cards;
  $('sale-options').hidden = !capture && !cards;
  if (!capture) $('manual-capture').checked = false;
  const channels = provider()?.payer_channels ?? [];
  $('payer').hidden = channels.length === 0;
  if (channels.length) {
    const keep = $('payer-channel').value;
    $('payer-channel').replaceChildren(...channels.map((c) => new Option(t(c.label), c.code)));
    $('payer-channel').value = channels.some((c) => c.code === keep) ? keep : channels[0].code;
    fitPayerChannel();
  }
  const methods = provider()?.methods ?? ['qr'];
  for (const b of document.querySelectorAll('.method')) b.hidden = !methods.includes(b.dataset.method);
  setMethod(methods.includes(method) ? method : methods[0]);
  fitAmountToCurrency();
  renderAmount();
}

export function initCounter() {
  api.onPaymentChanged(pushed).catch(() => { /* the slow poll still follows the sale */ });
  for (const b of document.querySelectorAll('.method')) b.addEventListener('click', () => setMethod(b.dataset.method));
  const cur = $('currency');
  fitToProfile();
  renderAmount();
  document.addEventListener('paydesk:profile', fitToProfile);
  $('payer-channel').addEventListener('change', fitPayerChannel);
  $('payer-mobile').addEventListener('input', recallPayer);
  $('payer-forget').addEventListener('click', forgetPayer);
  moveOldPayers();
  // Saving a card needs to know whose it is.
  $('save-card').addEventListener('change', () => { if ($('save-card').checked && !$('shopper-reference').value.trim()) $('shopper-reference').focus(); });

  for (const b of document.querySelectorAll('#keypad button')) b.addEventListener('click', () => press(b.dataset.key));
  $('entry').addEventListener('submit', (e) => { e.preventDefault(); create(); });
  $('new-sale').addEventListener('click', newSale);
  const demoSettle = (outcome) => async () => {
    if (!sale) return;
    demoButtonsEnabled(false);
    try {
      // The outcome arrives as with a real customer: by notification, else the next poll.
      await api.settleDemoSale(sale.payment.reference, outcome);
      schedulePoll(POLL_FIRST_MS);
    } catch (err) {
      demoButtonsEnabled(true);
      showError(api.describeError(err));
    }
  };
  $('demo-pay-ok').addEventListener('click', demoSettle('pay'));
  $('demo-pay-decline').addEventListener('click', demoSettle('decline'));
  $('next-sale').addEventListener('click', newSale);
  $('collect-rest').addEventListener('click', collectRest);
  $('refund-arrived').addEventListener('click', refundArrived);
  $('partial-confirm-no').addEventListener('click', () => { $('partial-confirm').hidden = true; });
  // Another currency keeps what was typed, cut to the decimals that currency has.
  cur.addEventListener('change', () => { if (kept) letGoOfKept(); fitAmountToCurrency(); renderAmount(); cur.blur(); });
  // After any choice, the keys go back to the amount.
  for (const id of ['wallet', 'customer', 'payer-channel']) $(id).addEventListener('change', () => $(id).blur());
  for (const b of document.querySelectorAll('.method')) b.addEventListener('click', () => b.blur());
  // Receipts and QR codes go through the system print dialog; 80 mm fits most counters.
  const print = async (what) => {
    try {
      await printHtml(await api.printPage((sale ?? {}).payment?.reference ?? $('sale-reference').textContent, what, localStorage.getItem('paydesk.paper') ?? '80mm'));
    } catch (err) {
      showError(api.describeError(err));
    }
  };
  $('print-receipt').addEventListener('click', () => print('receipt'));
  $('print-qr').addEventListener('click', () => print('qr'));
  $('copy-link').addEventListener('click', async () => {
    const link = $('sale').dataset.link;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // Older WebKit: copy from a selection.
      const range = document.createRange();
      range.selectNodeContents($('sale-link'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand('copy');
    }
    $('copy-link').textContent = t('Copied');
  });

  document.addEventListener('keydown', (e) => {
    if ($('view-counter').hidden) return;
    const inField = e.target instanceof HTMLSelectElement || (e.target instanceof HTMLInputElement && e.target.type !== 'checkbox');
    if (!$('entry').hidden) {
      if (e.key === 'F2') { e.preventDefault(); setMethod(method === 'qr' ? 'link' : 'qr'); return; }
      // Enter always makes the QR here, wherever focus was left (a tab, a keypad key).
      if (e.key === 'Enter') { e.preventDefault(); create(); return; }
      if (e.key === 'Escape') {
        if (busy) cancelCreate();
        if (kept) letGoOfKept();
        typed = '';
        renderAmount();
        hideError();
        return;
      }
      if (!inField && (/^[0-9.]$/.test(e.key) || e.key === 'Backspace')) { e.preventDefault(); press(e.key); }
      return;
    }
    if (e.key === 'Escape' || (e.key === 'Enter' && !$('outcome').hidden)) { e.preventDefault(); newSale(); }
  });
}
