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

/** What the profile in use's provider offers: flows, methods, wallets, currencies. */
export function provider(profile = state.profile) {
  return state.info?.providers.find((p) => p.provider === profile?.provider) ?? state.info?.providers[0];
}

export function offers(flow, profile = state.profile) {
  return provider(profile)?.flows.includes(flow) ?? false;
}

export function exponentOf(code) {
  for (const p of [provider(), ...(state.info?.providers ?? [])]) {
    const c = p?.currencies.find((x) => x.code === code);
    if (c) return c.exponent;
  }
  return 2;
}
