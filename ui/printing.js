// Printing through the system dialog, from a hidden frame, saying what happens: with no
// printer set up the dialog could only save a file, so the window says so first; a print
// the system fails is said too (the shell's `print-failed` event).
import * as api from './api.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * The page in a hidden frame, styled. The window's content policy allows no inline
 * `<style>` (the frame inherits it), so the page's own styles are adopted as a
 * constructed style sheet, which the policy does not govern.
 */
async function framed(html) {
  $('print-frame')?.remove();
  const frame = document.createElement('iframe');
  frame.id = 'print-frame';
  frame.className = 'print-frame';
  frame.title = t('Print');
  frame.srcdoc = html;
  const loaded = new Promise((resolve) => { frame.onload = resolve; });
  document.body.append(frame);
  await loaded;
  const doc = frame.contentDocument;
  const css = [...doc.querySelectorAll('style')].map((s) => s.textContent).join('\n');
  if (css) {
    const sheet = new frame.contentWindow.CSSStyleSheet();
    sheet.replaceSync(css);
    doc.adoptedStyleSheets = [sheet];
  }
  return frame;
}

function note(text, kind, printAnyway = null) {
  $('print-note-text').textContent = text;
  $('print-note').dataset.kind = kind;
  $('print-anyway').hidden = !printAnyway;
  $('print-anyway').onclick = printAnyway && (() => { $('print-note').hidden = true; printAnyway(); });
  $('print-note').hidden = false;
}

/** Prints `html` (a whole page) through the system print dialog. */
export async function printHtml(html) {
  const frame = await framed(html);
  const dialog = () => frame.contentWindow.print();
  const printers = await api.printers().catch(() => ({ known: false, names: [] }));
  if (printers.known && printers.names.length === 0) {
    note(t('No printer is set up on this computer: add one in the system’s printer settings, or print anyway to save a PDF.'), 'error', dialog);
    return;
  }
  $('print-note').hidden = true;
  dialog();
}

export function initPrinting() {
  $('print-note-close').addEventListener('click', () => { $('print-note').hidden = true; });
  api.onEvent('print-failed', (message) => note(t('Printing failed ({message}): check the printer and try again.', { message }), 'error'));
}
