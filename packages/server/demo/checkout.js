// The demo shop's page script: collect a device token with Warden's SDK for each submission, send
// it with the form to the shop's back end, and show what Warden decided.
const key = document.body.dataset.key;
const warden = window.Warden.init({ publishableKey: key, endpoint: '' });

const show = (answer, form) => {
  document.getElementById('device-id').textContent = answer.device_id ?? 'none';
  const decision = answer.decision;
  document.getElementById('action').textContent = decision
    ? `${decision.action}${decision.challenge ? `: ${decision.challenge}` : ''}`
    : (answer.error?.code ?? 'no decision');
  document.getElementById('result').textContent = JSON.stringify(answer, null, 2);
  document.body.dataset.action = decision ? decision.action : 'error';
  const needsCaptcha = decision?.action === 'challenge' && decision.challenge === 'captcha';
  // The captcha joins the form that was asked for one, and only then: its checkbox is required.
  for (const box of document.querySelectorAll('.captcha')) box.remove();
  if (needsCaptcha) {
    const box = document.createElement('div');
    box.className = 'captcha';
    const note = document.createElement('p');
    note.textContent = 'Warden asks for a captcha: tick the box, then send the form again.';
    const widget = document.createElement('altcha-widget');
    widget.setAttribute('challenge', `/v1/challenges/captcha?key=${key}`);
    box.append(note, widget);
    form.querySelector('button[type=submit]').before(box);
  }
};

const submit = async (form, step, password) => {
  document.body.dataset.action = 'pending';
  try {
    const device = await warden.collect(password ? { password } : {});
    const fields = Object.fromEntries(new FormData(form).entries());
    delete fields.password;
    const captcha = typeof fields.altcha === 'string' && fields.altcha ? fields.altcha : undefined;
    delete fields.altcha;
    const response = await fetch('/demo/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step, ...fields, device_token: device.token, captcha }),
    });
    show({ device_id: device.deviceId, ...(await response.json()) }, form);
  } catch (error) {
    show({ error: { code: 'page_error', message: String(error) } }, form);
  }
};

document.getElementById('signup').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submit(form, 'signup', form.elements.password.value);
});

document.getElementById('checkout').addEventListener('submit', (event) => {
  event.preventDefault();
  submit(event.currentTarget, 'checkout');
});
