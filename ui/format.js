// Display helpers. Amounts are never rounded: they arrive as exact decimal strings,
// and totals are summed in integer minor units with BigInt.

export function minorToDecimal(minor, exponent) {
  const neg = minor < 0n;
  let digits = (neg ? -minor : minor).toString();
  if (exponent === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(exponent + 1, '0');
  const whole = digits.slice(0, -exponent);
  const frac = digits.slice(-exponent);
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

export function localDate(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

export const STATUS_LABELS = {
  created: 'Created', pending: 'Waiting', authorized: 'Authorized', paid: 'Paid', partially_paid: 'Partly paid',
  partially_refunded: 'Partly refunded', refunded: 'Refunded', failed: 'Declined',
  expired: 'Expired', cancelled: 'Cancelled', unknown: 'Unknown',
};

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
  if (t === '') return { error: 'Enter an amount.' };
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t)) return { error: `“${t}” is not an amount. Use digits and one decimal point, e.g. 4.00.` };
  const [whole, frac = ''] = t.split('.');
  if (frac.length > exponent) {
    return { error: exponent === 0 ? 'This currency has no decimals.' : `Use at most ${exponent} decimal places.` };
  }
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(frac.padEnd(exponent, '0') || '0');
  if (minor <= 0n) return { error: 'The amount must be more than zero.' };
  return { minor };
}
