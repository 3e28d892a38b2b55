// Typed wrappers over the app's Tauri commands. Every error is {kind, message, ...}.
// Tauri's own IPC entry point; the global `window.__TAURI__` API is not injected
// (withGlobalTauri is off), so no other script gets the whole API for free.
const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);

export const appInfo = () => invoke('app_info');
export const uiReady = () => invoke('ui_ready');
export const createPayment = (request) => invoke('create_payment', { request });
export const pollPayment = (reference) => invoke('poll_payment', { reference });
export const refreshPayment = (reference) => invoke('refresh_payment', { reference });
export const retryPayment = (reference) => invoke('retry_payment', { reference });
export const listPayments = (filter) => invoke('list_payments', { filter });
export const paymentDetail = (reference) => invoke('payment_detail', { reference });

/** A human sentence for any error the commands return. */
export function describeError(err) {
  if (err && typeof err === 'object' && err.message) return err.message;
  return String(err);
}
export const refundPayment = (reference, amount) => invoke('refund_payment', { reference, amount });
export const cancelPayment = (reference) => invoke('cancel_payment', { reference });
/** Demo mode: the sandbox pays ('pay') or declines ('decline') the waiting sale. */
export const settleDemoSale = (reference, outcome) => invoke('settle_demo_sale', { reference, outcome });
export const capturePayment = (reference, amount, last) => invoke('capture_payment', { reference, amount, last });
export const voidPayment = (reference) => invoke('void_payment', { reference });
export const listCustomers = (profile, text) => invoke('list_customers', { profile, text });
export const createCustomer = (profile, fields) => invoke('create_customer', { profile, fields });
export const getCustomer = (profile, customerNo, customerCode) => invoke('get_customer', { profile, customerNo, customerCode });
export const updateCustomer = (profile, customerNo, changes) => invoke('update_customer', { profile, customerNo, changes });
export const listProfiles = () => invoke('list_profiles');
export const saveProfile = (input, token) => invoke('save_profile', { input, token });
export const deleteProfile = (name) => invoke('delete_profile', { name });
export const deleteSecret = (name) => invoke('delete_secret', { name });
export const testConnection = (name) => invoke('test_connection', { name });
export const listTokens = (profile, shopperReference) => invoke('list_tokens', { profile, shopperReference });
export const savedTokens = (profile, shopperReference) => invoke('saved_tokens', { profile, shopperReference });
export const removeToken = (profile, shopperReference, token) => invoke('remove_token', { profile, shopperReference, token });
export const cancelRecurring = (profile, shopperReference, agreementId) => invoke('cancel_recurring', { profile, shopperReference, agreementId });
export const txPage = (query) => invoke('tx_page', { query });
export const txTotals = (query) => invoke('tx_totals', { query });
export const txTotalsByShop = (query) => invoke('tx_totals_by_shop', { query });
export const dailyReport = (query, byProvider) => invoke('daily_report', { query, byProvider });
export const exportDailyReport = (query, byProvider, path) => invoke('export_daily_report', { query, byProvider, path });
export const ledgerStatus = () => invoke('ledger_status');
export const profileHistory = (limit) => invoke('profile_history', { limit });
export const diagnoseConnection = (name) => invoke('diagnose_connection', { name });
export const recallPayer = (mobile) => invoke('recall_payer', { mobile });
export const forgetPayer = (mobile) => invoke('forget_payer', { mobile });
export const importPayers = (payers) => invoke('import_payers', { payers });
export const chooseExportFile = (format, name = null) => invoke('choose_export_file', { format, name });
export const exportLedger = (query, format, path, refunds, events) => invoke('export_ledger', { query, format, path, refunds, events });
export const showExportedFile = (path) => invoke('show_exported_file', { path });
export const refreshUnsettled = (query) => invoke('refresh_unsettled', { query });
export const jobProgress = (job) => invoke('job_progress', { job });
export const cancelJob = (job) => invoke('cancel_job', { job });

/**
 * Calls `handler(payment)` whenever the core changes a payment's status (pushed by the
 * shell as the event `payment-changed`). Tauri's own event IPC, without its global API.
 */
export function onPaymentChanged(handler) {
  return onEvent('payment-changed', handler);
}
export const printPage = (reference, what, paper) => invoke('print_page', { reference, what, paper });

export const printers = () => invoke('printers');
export const notifyPaid = (title, body) => invoke('notify_paid', { title, body });
export const setLanguage = (language) => invoke('set_language', { language });
export const demoPhones = () => invoke('demo_phones');
export const setDemoPhones = (on) => invoke('set_demo_phones', { on });
export const displaySettings = () => invoke('display_settings');
export const saveDisplaySettings = (settings) => invoke('save_display_settings', { settings });
export const ledgerSettings = () => invoke('ledger_settings');
export const saveSharedLedger = (url, password) => invoke('save_shared_ledger', { url, password });
export const showOnDisplay = (reference, cancelled = false) => invoke('show_on_display', { reference, cancelled });
export const displayState = () => invoke('display_state');
export const openCustomerDisplay = () => invoke('open_customer_display');
export const closeCustomerDisplay = () => invoke('close_customer_display');

/** Calls `handler(payload)` on every event `name` the shell emits (Tauri's event IPC). */
export function onEvent(name, handler) {
  const callback = window.__TAURI_INTERNALS__.transformCallback((event) => handler(event.payload));
  return invoke('plugin:event|listen', { event: name, target: { kind: 'Any' }, handler: callback });
}

/** A short two-note chime (no file to ship): PAID heard across the counter. */
export function chime() {
  try {
    const ctx = new AudioContext();
    [[880, 0], [1320, 0.12]].forEach(([hz, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + 0.3);
    });
    setTimeout(() => ctx.close(), 1000);
    return true;
  } catch {
    return false;
  }
}
