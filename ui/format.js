// Display helpers. Amounts are never rounded: they arrive as exact decimal strings,
// and totals are summed in integer minor units with BigInt.
import { formatDateTime, t, t as tr } from './i18n.js';

export function minorToDecimal(minor, exponent) {
  const neg = minor < 0n;
  let digits = (neg ? -minor : minor).toString();
  if (exponent === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(exponent + 1, '0');
  const whole = digits.slice(0, -exponent);
  const frac = digits.slice(-exponent);
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

export const localDate = formatDateTime;

/** An exact decimal amount with its thousands grouped and its currency: "1,234.50 USD". */
export function money(amount, currency) {
  const text = String(amount ?? '');
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return `${text} ${currency ?? ''}`.trim();
  return `${groupThousands(text)} ${currency ?? ''}`.trim();
}

/** Digits as people read them, thousands grouped ("1,234.5"; "12." as typed stays so). */
export function groupThousands(text) {
  const [whole, frac] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Each status's word, as the core's state machine names it (app_info hands them over as
 * [name, word] pairs, in a payment's order of life). */
let statusLabels = {};
export let statusNames = [];

export function setStatusLabels(pairs) {
  statusNames = (pairs ?? []).map(([name]) => name);
  statusLabels = Object.fromEntries(pairs ?? []);
}

/** One vocabulary for statuses everywhere, in the language in use. */
export function statusLabel(status) {
  return statusLabels[status] ? t(statusLabels[status]) : status;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

/**
 * Reads an amount as typed ("4", "4.5", "4.50") into integer minor units (BigInt), or
 * returns { error } saying what is wrong, in words a person uses.
 */
export function parseAmount(text, exponent) {
  const t = String(text ?? '').trim();
  if (t === '') return { error: tr('Enter an amount.') };
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t)) return { error: tr('“{text}” is not an amount. Use digits and one decimal point, e.g. 4.00.', { text: t }) };
  const [whole, frac = ''] = t.split('.');
  if (frac.length > exponent) {
    return { error: exponent === 0 ? tr('This currency has no decimals.') : tr('Use at most {n} decimal places.', { n: exponent }) };
  }
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(frac.padEnd(exponent, '0') || '0');
  if (minor <= 0n) return { error: tr('The amount must be more than zero.') };
  return { minor };
}

/** Clears every field's error in a form. */
export function clearFieldErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) e.remove();
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

/**
 * Shows every problem of a form at once, each next to its field: `problems` are
 * [{ field, message }] (the core's `problems`, or the one `field` of an error), `inputOf`
 * finds a field's input. Returns the problems no input was found for.
 */
export function showFieldErrors(form, problems, inputOf) {
  clearFieldErrors(form);
  const unplaced = [];
  let first = null;
  for (const p of problems) {
    const input = inputOf(p.field);
    if (!input || input.closest('[hidden]')) { unplaced.push(p); continue; }
    input.setAttribute('aria-invalid', 'true');
    const note = el('span', { class: 'field-error', role: 'alert', dataset: { field: p.field } }, p.message);
    input.insertAdjacentElement('afterend', note);
    first ??= input;
  }
  first?.focus();
  return unplaced;
}

/** The problems an error names: every one of a form checked whole, else its one field. */
export function problemsOf(err) {
  if (err?.problems?.length) return err.problems;
  if (err?.kind === 'invalid_input' && err.field) return [{ field: err.field, message: err.message }];
  return [];
}

/** The file's name of a path, as a person recognises it ("books.csv"). */
export const fileName = (path) => path.split(/[\\/]/).pop();
