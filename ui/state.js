// What every screen shares: the app's facts and the profile (store) in use.
export const state = { info: null, profile: null };

const KEY = 'paydesk.profile';

export function setProfile(profile) {
  state.profile = profile;
  try { localStorage.setItem(KEY, profile.name); } catch { /* storage may be off */ }
  document.dispatchEvent(new CustomEvent('paydesk:profile', { detail: profile }));
}

export function rememberedProfile() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}

export function exponentOf(code) {
  return state.info?.currencies.find((c) => c.code === code)?.exponent ?? 2;
}
