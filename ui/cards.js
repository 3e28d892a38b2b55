// Cards on file: a shopper's saved cards at the provider, removed with confirmation; and
// cancelling a recurring agreement. Read from the provider, or as last seen when it is away.
import * as api from './api.js';
import { el } from './format.js';
import { t as tr } from './i18n.js';
import { state } from './state.js';

const $ = (id) => document.getElementById(id);
let shopper = '';
let pending = null; // the confirmed action to run

function notice(text, kind = 'ok') {
  const m = $('cards-message');
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = !text;
}

// The provider's codes in words; a code not listed here is shown as it came, marked unknown.
const METHOD_WORDS = () => ({ BANKCARD: tr('Card'), APPLEPAY: tr('Apple Pay'), GOOGLEPAY: tr('Google Pay') });
const USAGE_WORDS = () => ({ CARD_ON_FILE: tr('Saved for later purchases'), SUBSCRIPTION: tr('Recurring charges') });
const STATUS_WORDS = () => ({ ACTIVATE: tr('Active'), ACTIVE: tr('Active'), INACTIVATE: tr('Inactive'), INACTIVE: tr('Inactive'), EXPIRED: tr('Expired') });

const inWords = (words, code) => words()[code] ?? tr('Unknown ({raw})', { raw: code || '—' });

/** "VISA •••• 4242" where the provider names the card, else its method ("Card"). */
function cardName(t) {
  return t.card_brand && t.last4 ? `${t.card_brand} •••• ${t.last4}` : t.last4 ? `•••• ${t.last4}` : inWords(METHOD_WORDS, t.payment_method);
}

function render(tokens) {
  $('cards-rows').replaceChildren(...tokens.map((t) => {
    const name = cardName(t);
    const remove = el('button', { type: 'button', class: 'secondary', dataset: { token: t.token } }, tr('Remove…'));
    remove.addEventListener('click', () => ask(
      tr('Remove {card} of shopper {shopper}? The shopper will have to enter it again.', { card: name, shopper }),
      () => removeCard(t.token, name)));
    // The token and the raw codes are for support, behind "details".
    const details = el('details', {}, el('summary', {}, tr('details')),
      el('span', { class: 'mono small selectable' }, t.token), ' ',
      el('span', { class: 'muted small' }, [t.payment_method, t.token_usage, t.status].filter(Boolean).join(' · ')));
    return el('tr', { dataset: { token: t.token } },
      el('td', { class: 'card-name' }, name), el('td', {}, t.expiry ?? '—'), el('td', {}, inWords(USAGE_WORDS, t.token_usage)),
      el('td', {}, inWords(STATUS_WORDS, t.status)), el('td', {}, details), el('td', {}, remove));
  }));
  $('cards-empty').hidden = tokens.length > 0;
}

async function find() {
  shopper = $('cards-shopper').value.trim();
  $('cards-confirm').hidden = true;
  if (!shopper) { notice(tr('Enter the shopper reference the card was saved under.'), 'error'); return; }
  notice('');
  const profile = state.profile.name;
  try {
    render(await api.listTokens(profile, shopper));
  } catch (err) {
    if (['provider_unreachable', 'provider_protocol'].includes(err?.kind)) {
      // The provider is away: show what the ledger last saw, and say so.
      try {
        render(await api.savedTokens(profile, shopper));
        notice(`${api.describeError(err)} ${tr('Showing the cards as last seen.')}`, 'error');
        return;
      } catch { /* fall through to the first error */ }
    }
    render([]);
    notice(api.describeError(err), 'error');
  }
}

function ask(text, action) {
  pending = action;
  $('cards-confirm-text').textContent = text;
  $('cards-confirm').hidden = false;
  $('cards-confirm-yes').focus();
}

async function runPending() {
  const action = pending;
  pending = null;
  $('cards-confirm').hidden = true;
  if (action) await action();
}

async function removeCard(token, name) {
  try {
    await api.removeToken(state.profile.name, shopper, token);
    notice(tr('{card} removed.', { card: name }));
    render(await api.savedTokens(state.profile.name, shopper));
  } catch (err) {
    notice(api.describeError(err), 'error');
  }
}

async function cancelAgreement(agreement) {
  const who = $('cards-shopper').value.trim();
  try {
    await api.cancelRecurring(state.profile.name, who, agreement);
    notice(tr('Agreement {agreement} cancelled: no further charges will be made on it.', { agreement }));
    $('agreement-id').value = '';
  } catch (err) {
    notice(api.describeError(err), 'error');
  }
}

export function initCards() {
  $('cards-search').addEventListener('submit', (e) => { e.preventDefault(); find(); });
  $('cards-confirm-yes').addEventListener('click', runPending);
  $('cards-confirm-no').addEventListener('click', () => { pending = null; $('cards-confirm').hidden = true; });
  $('agreement-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const agreement = $('agreement-id').value.trim();
    const who = $('cards-shopper').value.trim();
    if (!who || !agreement) { notice(tr('Enter the shopper reference (above) and the agreement id.'), 'error'); return; }
    ask(tr('Cancel agreement {agreement} of shopper {shopper}? It cannot be charged again.', { agreement, shopper: who }), () => cancelAgreement(agreement));
  });
  // Another profile's cards are another list.
  document.addEventListener('paydesk:profile', () => { render([]); $('cards-empty').hidden = true; notice(''); });
}
