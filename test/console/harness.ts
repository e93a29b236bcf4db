import { existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from '../helpers/server.js';

/** Debian's Chromium; CI installs it with apt (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launch headless Chromium, failing loudly (never skipping) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the console tests need Debian's Chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
}

/**
 * A fresh context (its own sessionStorage) at 1280x800 in a timezone east of UTC, so local-time
 * inputs are really converted. Page errors, CSP violations and console errors are collected.
 */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai', locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every 4xx answer; the error answers the tests provoke are expected.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
  });
  return { context, page, problems };
}

/** Sign in through the form and land on the overview. */
export async function signIn(page: Page, baseUrl: string, secret = ACCESS_KEY_SECRET, id = ACCESS_KEY_ID): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('AccessKey ID').fill(id);
  await page.getByLabel('AccessKey secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Poll `check` every 100 ms until it holds. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `Date` → the value a `<input type=datetime-local step=1>` takes, in Asia/Shanghai (UTC+8, no DST). */
export function shanghaiInput(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19);
}

export interface DecodedPng {
  width: number;
  height: number;
  /** Distinct RGB colours (capped at 10,000). */
  colours: number;
  /** Share of pixels with the most common colour. */
  dominantShare: number;
}

/** Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's screenshots are) enough to judge it. */
export function decodePng(buf: Buffer): DecodedPng {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colourType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colourType !== 2 && colourType !== 6)) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colourType}, interlace ${interlace}`);
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  const counts = new Map<number, number>();
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base];
    for (let x = 0; x < stride; x++) {
      const rawByte = raw[base + 1 + x];
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v: number;
      if (filter === 0) v = rawByte;
      else if (filter === 1) v = rawByte + a;
      else if (filter === 2) v = rawByte + b;
      else if (filter === 3) v = rawByte + ((a + b) >> 1);
      else {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = rawByte + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      line[x] = v & 0xff;
    }
    for (let x = 0; x < stride; x += channels) {
      const rgb = (line[x] << 16) | (line[x + 1] << 8) | line[x + 2];
      if (counts.size < 10_000 || counts.has(rgb)) counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
    }
    line.copy(prev);
  }
  const dominant = Math.max(...counts.values());
  return { width, height, colours: counts.size, dominantShare: dominant / (width * height) };
}
