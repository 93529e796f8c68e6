// browser.mjs: headless Chromium for the browser tests (Debian's chromium through
// playwright-core), screenshots, and the sign-in form as a person fills it in.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { root } from './stack.mjs';

export const shots = path.join(root, 'tests/out/screenshots');
mkdirSync(shots, { recursive: true });

export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

/* Saves a screenshot of the page as it is now: tests/out/screenshots/<prefix>-NN-<name>.png */
export function shooter(prefix) {
  let n = 0;
  return async (page, name) => {
    n++;
    await page.screenshot({ path: path.join(shots, `${prefix}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
}

/* Opens a page that needs sign-in and signs in through the form, as a person would. */
export async function signIn(page, shot, user, password, start = '/oauth/apps') {
  await page.goto(start);
  assert.match(page.url(), /\/oauth\/login\?return_to=/);
  await shot(page, 'login');
  await page.getByLabel(/user name/i).fill(user);
  await page.getByLabel(/password/i).fill(password);
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  await page.waitForURL((u) => !u.pathname.endsWith('/oauth/login'));
}
