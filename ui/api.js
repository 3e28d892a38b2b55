// Typed wrappers over the app's Tauri commands. Every error is {kind, message, ...}.
const invoke = (cmd, args) => window.__TAURI__.core.invoke(cmd, args);

export const appInfo = () => invoke('app_info');
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
