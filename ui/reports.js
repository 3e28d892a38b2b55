// Daily takings for a period: a bar chart per currency (stacked by provider), where people
// would rather look than read, and the table beneath it: money taken (gross), refunded and
// net per day, currency and provider, with a total row per currency (`report daily`'s numbers).
import * as api from './api.js';
import { el, groupThousands, minorToDecimal, money } from './format.js';
import { formatDay, t } from './i18n.js';
import { exponentOf } from './state.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = { pockyt: '#0969da', paykka: '#8250df', vexora: '#bf8700' };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function query() {
  const period = $('report-period').value;
  return {
    period,
    from: period === 'custom' ? $('report-from').value || null : null,
    to: period === 'custom' ? $('report-to').value || null : null,
  };
}

/** Every local day of the period, so a day with no takings shows as an empty place. */
function daysOf(q, rows) {
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const today = new Date();
  let from;
  let to = today;
  if (q.period === 'this_month') from = new Date(today.getFullYear(), today.getMonth(), 1);
  else if (q.period === 'this_week') from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - ((today.getDay() + 6) % 7));
  else if (q.from && q.to) { from = new Date(`${q.from}T00:00`); to = new Date(`${q.to}T00:00`); }
  const days = new Set(rows.map((r) => r.day));
  if (from && to - from < 400 * 86400000) {
    for (let d = new Date(from); d <= to; d.setDate(d.getDate() + 1)) days.add(iso(d));
  }
  return [...days].sort();
}

/** One chart: a bar a day, its height what came in, stacked by provider. */
function chart(currency, days, rows) {
  const exp = exponentOf(currency);
  const byDay = new Map(days.map((d) => [d, new Map()]));
  for (const r of rows) {
    const day = byDay.get(r.day);
    day.set(r.provider, (day.get(r.provider) ?? 0n) + BigInt(r.gross_minor));
  }
  const totals = days.map((d) => [...byDay.get(d).values()].reduce((a, b) => a + b, 0n));
  const max = totals.reduce((a, b) => (b > a ? b : a), 1n);
  const width = Math.max(days.length * 36 + 60, 320);
  const height = 220;
  const plot = height - 50;
  const box = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart', 'data-currency': currency,
    'aria-label': t('Daily takings in {currency}', { currency }) });
  box.append(svg('text', { x: 4, y: 14, class: 'chart-title' }, `${currency} · ${t('most in a day {amount}', { amount: groupThousands(minorToDecimal(max, exp)) })}`));
  days.forEach((d, i) => {
    const x = 50 + i * 36;
    let y = height - 30;
    for (const [provider, minor] of byDay.get(d)) {
      const h = Number((minor * BigInt(plot)) / max);
      y -= h;
      const bar = svg('rect', { x, y, width: 24, height: Math.max(h, minor > 0n ? 1 : 0), fill: COLOURS[provider] ?? '#6e7781', class: 'bar', 'data-day': d, 'data-provider': provider });
      bar.append(svg('title', {}, `${formatDay(d)} · ${provider} · ${money(minorToDecimal(minor, exp), currency)}`));
      box.append(bar);
    }
    box.append(svg('text', { x: x + 12, y: height - 14, 'text-anchor': 'middle', class: 'chart-label' }, d.slice(5)));
  });
  return box;
}

async function show() {
  $('report-error').hidden = true;
  try {
    const all = await api.dailyReport(query());
    const rows = all.filter((r) => r.day !== 'total');
    const cell = (text) => el('td', { class: 'num' }, text);
    $('report-rows').replaceChildren(...all.map((r) => el('tr', r.day === 'total' ? { class: 'total' } : {},
      el('td', { dataset: { day: r.day } }, r.day === 'total' ? t('Total') : formatDay(r.day)), el('td', {}, r.currency),
      el('td', {}, r.provider ?? ''), cell(r.count), cell(money(r.gross, r.currency)),
      cell(money(r.refunded, r.currency)), cell(money(r.net, r.currency)))));
    const taken = rows;
    const days = daysOf(query(), rows);
    const currencies = [...new Set(taken.map((r) => r.currency))].sort();
    $('report-charts').replaceChildren(...(currencies.length
      ? currencies.map((c) => chart(c, days, taken.filter((r) => r.currency === c)))
      : [el('p', { class: 'muted' }, t('Nothing came in during this period.'))]));
    $('report-charts').dataset.ready = 'true';
  } catch (err) {
    $('report-error').hidden = false;
    $('report-error').textContent = api.describeError(err);
  }
}

export function initReports() {
  $('report-period').addEventListener('change', () => {
    for (const l of document.querySelectorAll('.report-dates')) l.hidden = $('report-period').value !== 'custom';
  });
  $('report-filters').addEventListener('submit', (e) => { e.preventDefault(); show(); });
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'reports') show(); });
}
