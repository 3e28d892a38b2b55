// Daily takings for a period: a bar chart per currency, drawn at the width it is shown, where
// people would rather look than read, and the table beneath it: money taken (gross), refunded
// and net per day and currency (and provider on request), with a total row per currency:
// `report daily`'s numbers, printed and exported as they are.
import * as api from './api.js';
import { printHtml } from './printing.js';
import { el, fileName, groupThousands, minorToDecimal, money } from './format.js';
import { formatDay, t } from './i18n.js';
import { exponentOf, state } from './state.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
// One colour per provider, in the order the core lists them.
const PALETTE = ['#0969da', '#8250df', '#bf8700', '#1a7f37', '#cf222e', '#6e7781'];
const colourOf = (provider) => {
  const at = (state.info?.providers ?? []).findIndex((p) => p.provider === provider);
  return at < 0 ? '#6e7781' : PALETTE[at % PALETTE.length];
};

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

/** A round top for the amount axis: 1, 2 or 5 times a power of ten (minor units). */
function niceTop(max, exp) {
  const unit = 10n ** BigInt(exp);
  let step = unit;
  while (step * 10n <= max) step *= 10n;
  for (const k of [1n, 2n, 5n, 10n]) if (step * k >= max) return step * k;
  return max;
}

/** One chart at the width it is shown: a bar a day (money taken, stacked by provider when
 * asked), the part refunded hatched at its top (the solid rest is net), an amount axis
 * with grid lines, a day axis labelled as often as there is room, and a legend. */
function chart(currency, days, rows, byProvider, width, total) {
  const exp = exponentOf(currency);
  const byDay = new Map(days.map((d) => [d, { parts: new Map(), refunded: 0n }]));
  for (const r of rows) {
    const day = byDay.get(r.day);
    const key = byProvider ? (r.provider ?? '') : '';
    day.parts.set(key, (day.parts.get(key) ?? 0n) + BigInt(r.gross_minor));
    day.refunded += BigInt(r.refunded_minor);
  }
  const gross = days.map((d) => [...byDay.get(d).parts.values()].reduce((a, b) => a + b, 0n));
  const top = niceTop(gross.reduce((a, b) => (b > a ? b : a), 1n), exp);
  const [left, right, upper, lower] = [72, 12, 40, 34];
  const height = 260;
  const plotW = Math.max(width - left - right, 40);
  const plotH = height - upper - lower;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(32, slot * 0.7));
  const y = (minor) => upper + plotH - Number((minor * BigInt(plotH)) / top);
  const box = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart', 'data-currency': currency,
    'aria-label': t('Daily takings in {currency}', { currency }) });
  const title = total
    ? t('{currency}: {gross} taken · {refunded} refunded · {net} net', { currency, gross: money(total.gross, currency), refunded: money(total.refunded, currency), net: money(total.net, currency) })
    : currency;
  box.append(svg('text', { x: 4, y: 16, class: 'chart-title' }, title));
  // Amount axis: 0, half and the top, with grid lines across.
  for (const tick of [0n, top / 2n, top]) {
    const ty = y(tick);
    box.append(svg('line', { x1: left, x2: left + plotW, y1: ty, y2: ty, class: tick === 0n ? 'chart-axis' : 'chart-grid' }));
    box.append(svg('text', { x: left - 6, y: ty + 4, 'text-anchor': 'end', class: 'chart-label' }, groupThousands(minorToDecimal(tick, exp)).replace(/\.0+$/, '')));
  }
  box.append(svg('line', { x1: left, x2: left, y1: upper, y2: upper + plotH, class: 'chart-axis' }));
  // Day labels no closer than 44 px.
  const every = Math.max(1, Math.ceil(44 / slot));
  days.forEach((d, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = upper + plotH;
    for (const [provider, minor] of byDay.get(d).parts) {
      const barH = Math.max(Number((minor * BigInt(plotH)) / top), minor > 0n ? 1 : 0);
      base -= barH;
      const bar = svg('rect', { x, y: base, width: barW, height: barH, ...(byProvider ? { fill: colourOf(provider) } : {}), class: byProvider ? 'bar' : 'bar bar-all', 'data-day': d, 'data-provider': provider });
      bar.append(svg('title', {}, `${formatDay(d)}${provider ? ` · ${provider}` : ''} · ${money(minorToDecimal(minor, exp), currency)}`));
      box.append(bar);
    }
    const refunded = byDay.get(d).refunded;
    if (refunded > 0n) {
      const rh = Math.max(1, Number((refunded * BigInt(plotH)) / top));
      const part = svg('rect', { x, y: base, width: barW, height: rh, fill: 'url(#refunded-hatch)', class: 'refunded', 'data-day': d });
      part.append(svg('title', {}, `${formatDay(d)} · ${t('refunded')} ${money(minorToDecimal(refunded, exp), currency)}`));
      box.append(part);
    }
    if (i % every === 0) {
      box.append(svg('text', { x: left + i * slot + slot / 2, y: height - lower + 16, 'text-anchor': 'middle', class: 'chart-label' }, d.slice(5).replace('-', '/')));
    }
  });
  // The hatch and the legend.
  const defs = svg('defs');
  const hatch = svg('pattern', { id: 'refunded-hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  hatch.append(svg('rect', { width: 6, height: 6, class: 'hatch-ground' }), svg('rect', { width: 3, height: 6, class: 'hatch-line' }));
  defs.append(hatch);
  box.prepend(defs);
  const legend = [[byProvider ? null : 'bar-all', t('Taken (net)')], ['url(#refunded-hatch)', t('Refunded')]];
  if (byProvider) for (const p of new Set(rows.map((r) => r.provider))) legend.unshift([colourOf(p), p]);
  let lx = width - right;
  for (const [fill, label] of legend.filter(([f]) => f).reverse()) {
    const text = svg('text', { x: lx, y: 16, 'text-anchor': 'end', class: 'chart-legend' }, label);
    box.append(text);
    lx -= label.length * 6.5 + 6;
    box.append(svg('rect', { x: lx - 12, y: 7, width: 12, height: 12, ...(fill === 'bar-all' ? { class: 'bar-all' } : { fill }) }));
    lx -= 24;
  }
  return box;
}

let lastReport = null;

function drawCharts() {
  if (!lastReport) return;
  const { rows, totals, days, byProvider } = lastReport;
  const width = Math.max(280, Math.min($('report-charts').clientWidth || 600, 1200));
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  $('report-charts').replaceChildren(...(currencies.length
    ? currencies.map((c) => chart(c, days, rows.filter((r) => r.currency === c), byProvider, width, totals.find((x) => x.currency === c)))
    : [el('p', { class: 'muted' }, t('Nothing came in during this period.'))]));
  $('report-charts').dataset.width = String(width);
}

async function show() {
  $('report-error').hidden = true;
  const byProvider = $('report-by-provider').checked;
  try {
    const all = await api.dailyReport(query(), byProvider);
    const rows = all.filter((r) => r.day !== 'total');
    const totals = all.filter((r) => r.day === 'total');
    const cell = (text) => el('td', { class: 'num' }, text);
    $('report-table').classList.toggle('by-provider', byProvider);
    $('report-rows').replaceChildren(...all.map((r) => el('tr', r.day === 'total' ? { class: 'total', dataset: { currency: r.currency } } : {},
      el('td', { dataset: { day: r.day } }, r.day === 'total' ? t('Total') : formatDay(r.day)), el('td', {}, r.currency),
      el('td', { class: 'provider-col' }, r.provider ?? ''), cell(r.count), cell(money(r.gross, r.currency)),
      cell(money(r.refunded, r.currency)), cell(money(r.net, r.currency)))));
    lastReport = { rows, totals, days: daysOf(query(), rows), byProvider };
    drawCharts();
    $('report-charts').dataset.ready = 'true';
  } catch (err) {
    $('report-error').hidden = false;
    $('report-error').textContent = api.describeError(err);
  }
}

function say(text, kind) {
  const m = $('report-message');
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = false;
}

/** The report on paper: its title, period and the table as shown (the same numbers). */
function printReport() {
  const period = $('report-period').selectedOptions[0]?.textContent ?? '';
  const esc = (x) => String(x).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // The provider's column only when the report is by provider, as on screen.
  const shown = (cell) => !cell.classList.contains('provider-col') || $('report-table').classList.contains('by-provider');
  const head = [...$('report-table').querySelectorAll('thead th')].filter(shown).map((th) => `<th>${esc(th.textContent)}</th>`).join('');
  const body = [...$('report-rows').children].map((tr) => `<tr class="${esc(tr.className)}">${[...tr.children].filter(shown)
    .map((td) => `<td class="${esc(td.className)}">${esc(td.textContent)}</td>`).join('')}</tr>`).join('');
  return printHtml(`<!doctype html><html lang="${document.documentElement.lang}"><meta charset="utf-8"><title>${esc(t('Daily takings'))}</title>
<style>body{font:12pt system-ui,sans-serif}table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #999;text-align:left}.num{text-align:right}tr.total td{font-weight:700;border-top:2px solid #000}</style>
<h1>${esc(t('Daily takings'))}</h1><p>${esc(period)}</p><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></html>`);
}

async function exportReport() {
  let path;
  try {
    path = await api.chooseExportFile('csv', 'paydesk-report');
    if (!path) return;
    await exportReportTo(path);
  } catch (err) {
    say(api.describeError(err), 'error');
  }
}

/** Writes the report as shown to `path` (the Save dialog chose it; tests call it directly). */
export async function exportReportTo(path) {
  try {
    const n = await api.exportDailyReport(query(), $('report-by-provider').checked, path);
    say(t('Exported {n} rows to {file}.', { n, file: fileName(path) }), 'ok');
  } catch (err) {
    say(api.describeError(err), 'error');
  }
}

export function initReports() {
  $('report-period').addEventListener('change', () => {
    for (const l of document.querySelectorAll('.report-dates')) l.hidden = $('report-period').value !== 'custom';
  });
  $('report-filters').addEventListener('submit', (e) => { e.preventDefault(); show(); });
  $('report-by-provider').addEventListener('change', show);
  $('report-print').addEventListener('click', () => printReport().catch((err) => say(api.describeError(err), 'error')));
  $('report-export').addEventListener('click', exportReport);
  let resized;
  window.addEventListener('resize', () => {
    if ($('view-reports').hidden) return;
    clearTimeout(resized);
    resized = setTimeout(drawCharts, 150);
  });
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'reports') show(); });
}
