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
  created: 'Created', pending: 'Waiting', authorized: 'Authorized', paid: 'Paid',
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
