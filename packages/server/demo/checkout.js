// The demo shop's page script: collect a device token with Warden's SDK for each submission, send
// it with the form to the shop's back end, and show what Warden decided.
const key = document.body.dataset.key;
const warden = window.Warden.init({ publishableKey: key, endpoint: '' });

const show = (answer) => {
  document.getElementById('device-id').textContent = answer.device_id ?? 'none';
  const decision = answer.decision;
  document.getElementById('action').textContent = decision
    ? `${decision.action}${decision.challenge ? `: ${decision.challenge}` : ''}`
    : (answer.error?.code ?? 'no decision');
  document.getElementById('result').textContent = JSON.stringify(answer, null, 2);
  document.body.dataset.action = decision ? decision.action : 'error';
  const needsCaptcha = decision?.action === 'challenge' && decision.challenge === 'captcha';
  const box = document.getElementById('captcha');
  box.hidden = !needsCaptcha;
  // The widget joins the form only when asked for: it makes its checkbox required.
  const widget = box.querySelector('altcha-widget');
  if (needsCaptcha && !widget) {
    const created = document.createElement('altcha-widget');
    created.setAttribute('challenge', `/v1/challenges/captcha?key=${key}`);
    box.append(created);
  } else if (!needsCaptcha && widget) {
    widget.remove();
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
    show({ device_id: device.deviceId, ...(await response.json()) });
  } catch (error) {
    show({ error: { code: 'page_error', message: String(error) } });
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
