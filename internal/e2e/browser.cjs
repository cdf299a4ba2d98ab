// Drives the status page of `cloud2mqtt demo` in Chromium through
// playwright-core, for browser_test.go. Environment: PAGE_URL, CHROMIUM,
// SHOT (screenshot path). Talks to the test on stdout/stdin, a line each:
// it prints "loaded" once the page is live and waits for "changed" before
// looking for the lamp's new state; it ends with "result <json>".
"use strict";
const { chromium } = require("playwright-core");
const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once("line", resolve));

(async () => {
  const result = { consoleErrors: [], scrollWidth: 0, updatedByItself: false, navigations: 0, connected: false };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => result.consoleErrors.push(String(e)));
    page.on("framenavigated", (f) => { if (f === page.mainFrame()) result.navigations++; });

    await page.goto(process.env.PAGE_URL, { waitUntil: "load" });
    await page.waitForSelector('#live[data-state="live"]', { timeout: 20000 });
    const lamp = page.locator('section[data-topic="cloud2mqtt/wink/bedroom_lamp"] dd[data-field="State"]');
    result.before = (await lamp.textContent()).trim();
    result.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    const navigationsBefore = result.navigations;
    console.log("loaded");
    await next(); // the test changed the lamp through MQTT
    await page.waitForFunction(
      (before) => {
        const el = document.querySelector('section[data-topic="cloud2mqtt/wink/bedroom_lamp"] dd[data-field="State"]');
        return el && el.textContent.trim() !== before;
      }, result.before, { timeout: 20000 });
    result.after = (await lamp.textContent()).trim();
    result.updatedByItself = result.navigations === navigationsBefore;
    await page.screenshot({ path: process.env.SHOT, fullPage: true });
    await page.screenshot({ path: process.env.SHOT.replace(/\.png$/, "-viewport.png") });

    // Connect: the emulator's login page sends the browser straight back.
    await page.locator('section[data-account="wink"] button', { hasText: "Connect" }).click();
    await page.waitForSelector('p[role="status"]', { timeout: 20000 });
    result.flash = (await page.locator('p[role="status"]').textContent()).trim();
    result.connected = /Account wink is connected/.test(result.flash);
    result.scrollWidthAfterLogin = await page.evaluate(() => document.documentElement.scrollWidth);
  } finally {
    await browser.close();
  }
  console.log("result " + JSON.stringify(result));
  process.exit(0);
})().catch((e) => { console.log("error " + String(e && e.stack || e)); process.exit(1); });
