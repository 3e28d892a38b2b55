// Three languages. The English text is the key: t('Create QR') is 'Create QR' in English
// and its translation in Chinese (catalogs kept by the core, one for the window, the
// customer display, printed pages and the CLI). Static page text is translated in place.
const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);

let words = {};
let locale = { tag: 'en', format_tag: 'en' };

/** Loads the language in use (the one chosen in Settings, else the system's). */
export async function loadLanguage() {
  try {
    const lang = await invoke('ui_language');
    words = lang.words ?? {};
    locale = lang;
  } catch {
    // Without the catalog the window still works, in English.
  }
  document.documentElement.lang = locale.format_tag;
  return locale;
}

export const language = () => locale;

/** `english` in the language in use, with `{name}` placeholders filled from `values`. */
export function t(english, values = {}) {
  let text = words[english] ?? english;
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

const ATTRIBUTES = ['placeholder', 'aria-label', 'title', 'alt'];

/** Translates the page's own text (text nodes and people-facing attributes) in place. */
export function translatePage(root = document.body) {
  if (!Object.keys(words).length) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.trim();
    if (text && words[text]) node.nodeValue = node.nodeValue.replace(text, words[text]);
  }
  for (const attr of ATTRIBUTES) {
    for (const e of root.querySelectorAll(`[${attr}]`)) {
      const text = e.getAttribute(attr).trim();
      if (words[text]) e.setAttribute(attr, words[text]);
    }
  }
  const title = document.title.trim();
  if (words[title]) document.title = words[title];
}

/** A date and time as the language writes them. */
export function formatDateTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(locale.format_tag);
}

export function formatDay(isoDay) {
  const d = new Date(`${isoDay}T00:00:00`);
  return isNaN(d) ? isoDay : d.toLocaleDateString(locale.format_tag, { month: 'short', day: 'numeric', weekday: 'short' });
}

/** A currency's name in the language ("新臺幣" for TWD), for the currency list's tooltip. */
export function currencyName(code) {
  try { return new Intl.DisplayNames([locale.format_tag], { type: 'currency' }).of(code) ?? code; } catch { return code; }
}
