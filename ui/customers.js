// Regular customers: register, look up at the provider, edit contact details.
import * as api from './api.js';
import { clearFieldErrors, el, problemsOf, showFieldErrors } from './format.js';
import { t } from './i18n.js';
import { state } from './state.js';

const $ = (id) => document.getElementById(id);
const FIELDS = {
  first_name: 'cust-first-name', last_name: 'cust-last-name', email: 'cust-email', phone: 'cust-phone',
  street: 'cust-street', city: 'cust-city', state: 'cust-state', zip: 'cust-zip',
  country_code: 'cust-country-code', customer_code: 'cust-code',
};
// The field names in the stored customer object (the customers flow's camelCase).
const WIRE = {
  first_name: 'firstName', last_name: 'lastName', email: 'email', phone: 'phone', street: 'street', city: 'city',
  state: 'state', zip: 'zip', country_code: 'countryCode', customer_code: 'customerCode',
};

let editing = null; // customer_no being edited, or null when registering

function message(text, ok = true) {
  const m = $('cust-message');
  m.textContent = text;
  m.className = ok ? 'message ok' : 'message error';
  m.hidden = false;
}

// The fields as the commands take them: camelCase names.
function formValues() {
  const values = {};
  for (const [field, id] of Object.entries(FIELDS)) {
    const v = $(id).value.trim();
    if (v) values[WIRE[field]] = v;
  }
  return values;
}

function newCustomer() {
  editing = null;
  for (const id of Object.values(FIELDS)) $(id).value = '';
  $('cust-code').disabled = false;
  $('cust-form-title').textContent = t('Register a customer');
  $('cust-save').textContent = t('Register');
  $('cust-message').hidden = true;
  clearFieldErrors($('cust-form'));
}

function edit(customer) {
  editing = customer.customer_no;
  for (const [field, id] of Object.entries(FIELDS)) $(id).value = customer.data?.[WIRE[field]] ?? '';
  // The shop's code identifies the customer; the provider does not change it on update.
  $('cust-code').disabled = true;
  $('cust-form-title').textContent = t('Customer {number}', { number: customer.customer_no });
  $('cust-save').textContent = t('Save changes');
  $('cust-message').hidden = true;
  clearFieldErrors($('cust-form'));
}

async function load() {
  try {
    const rows = await api.listCustomers(state.profile?.name ?? null, $('cust-search').value);
    $('cust-rows').replaceChildren(...rows.map((c) => {
      const tr = el('tr', { tabindex: '0', dataset: { customerNo: c.customer_no } },
        el('td', { class: 'mono' }, c.customer_no),
        el('td', {}, `${c.first_name ?? ''} ${c.last_name ?? ''}`.trim()),
        el('td', {}, c.email ?? ''),
        el('td', {}, c.customer_code ?? ''));
      tr.addEventListener('click', () => edit(c));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') edit(c); });
      return tr;
    }));
  } catch (err) {
    message(api.describeError(err), false);
  }
}

async function save(e) {
  e.preventDefault();
  const button = $('cust-save');
  button.disabled = true;
  try {
    const values = formValues();
    let customer;
    if (editing) {
      delete values.customerCode;
      customer = await api.updateCustomer(state.profile.name, editing, values);
      message(t('Saved customer {number}', { number: customer.customer_no }));
    } else {
      customer = await api.createCustomer(state.profile.name, values);
      message(t('Registered customer {number}', { number: customer.customer_no }));
    }
    $('cust-message').dataset.customerNo = customer.customer_no;
    edit(customer);
    $('cust-message').hidden = false;
    await load();
  } catch (err) {
    // Every field's problem at once, next to its field; the rest in the message line.
    const problems = problemsOf(err);
    showFieldErrors($('cust-form'), problems, (field) => (FIELDS[field] ? $(FIELDS[field]) : null));
    message(problems.length > 1 ? t('{n} fields need fixing; each is marked below its field.', { n: problems.length }) : api.describeError(err), false);
  } finally {
    button.disabled = false;
  }
}

async function lookup(e) {
  e.preventDefault();
  const key = $('lookup-key').value.trim();
  const byCode = $('lookup-by-code').checked;
  try {
    const c = await api.getCustomer(state.profile.name, byCode ? null : key, byCode ? key : null);
    edit(c);
    await load();
  } catch (err) {
    message(api.describeError(err), false);
  }
}

export function initCustomers() {
  $('cust-form').addEventListener('submit', save);
  $('cust-new').addEventListener('click', newCustomer);
  $('cust-lookup').addEventListener('submit', lookup);
  let debounce;
  $('cust-search').addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(load, 150); });
  document.addEventListener('paydesk:view', (e) => { if (e.detail === 'customers') load(); });
  document.addEventListener('paydesk:profile', () => { newCustomer(); if (!$('view-customers').hidden) load(); });
}
