// The example page: the browser SDK (served from the built package at /sdk/)
// with its soft prompt, subscribe / unsubscribe buttons and event tracking.
import { createHeraldClient } from '/sdk/index.js';
import { showSoftPrompt } from '/sdk/prompt.js';

const status = document.getElementById('status');
const userInput = document.getElementById('user');
const say = (text) => {
  status.textContent = text;
};

const config = await (await fetch('/config.json')).json();
const herald = createHeraldClient(config);
window.herald = herald;

const support = herald.isSupported();
if (!support.supported) {
  say(`Web push is not available here: ${support.reason}`);
} else {
  const result = await showSoftPrompt(herald, {
    title: 'Get notified about price drops?',
    userId: userInput.value,
  });
  say(`Prompt: ${result.outcome}${result.error ? ` (${result.error.message})` : ''}`);
}

document.getElementById('subscribe').addEventListener('click', async () => {
  try {
    const subscription = await herald.subscribe({ userId: userInput.value });
    say(`Subscribed (${subscription.id})`);
  } catch (error) {
    say(`Could not subscribe: ${error.message}`);
  }
});
document.getElementById('unsubscribe').addEventListener('click', async () => {
  say((await herald.unsubscribe()) ? 'Unsubscribed' : 'Not subscribed');
});
document.getElementById('track').addEventListener('click', async () => {
  await herald.track('Charged', { amount: 42.5 });
  say('Tracked "Charged"');
});
