#!/usr/bin/env node
// npm run bench:gpu [-- --shapes gpt2,distilgpt2 --T 128 --steps 3]: the GPT-2-shape
// benchmark on this machine's GPU, in Node (Dawn) and in Chromium (bench.html), one after
// the other, printing tokens/s and peak GPU bytes for each adapter. Written for a machine
// with a GPU; on a GPU-less one it runs on the software adapters (slowly).
// Chromium: CHROMIUM_PATH, else /usr/bin/chromium, else Playwright's 'chrome' channel.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm run bench:gpu [-- --shapes gpt2,distilgpt2 --B 1 --T 128 --steps 3 --skip-node --skip-browser]\nRuns src/bench/gpt2_gpu.ts in Node and bench.html in Chromium on the same machine.');
  process.exit(0);
}
const get = (n, d) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);
const shapes = get('shapes', 'gpt2,distilgpt2');
const B = get('B', '1');
const T = get('T', '128');
const steps = get('steps', '3');
let failed = false;

if (!args.includes('--skip-node')) {
  console.log('== Node (Dawn)');
  const r = spawnSync('npx', ['tsx', 'src/bench/gpt2_gpu.ts', '--shapes', shapes, '--B', B, '--T', T, '--steps', steps], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}

if (!args.includes('--skip-browser')) {
  console.log('\n== Chromium (bench.html)');
  const port = Number(process.env.BENCH_PORT ?? 5305);
  const server = spawn('npx', ['vite', '--port', String(port), '--strictPort'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  try {
    for (let i = 0; i < 120; i++) {
      try {
        if ((await fetch(`http://localhost:${port}/bench.html`)).ok) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 500));
    }
    const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
    const browser = await chromium.launch({
      executablePath,
      channel: executablePath ? undefined : 'chrome',
      headless: !args.includes('--headed'),
      args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist', '--no-sandbox', '--disable-background-networking', '--no-first-run'],
    });
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`  [page] ${m.text()}`));
    await page.goto(`http://localhost:${port}/bench.html?shapes=${shapes}&B=${B}&T=${T}&steps=${steps}`);
    let seen = 0;
    for (;;) {
      const s = await page.evaluate(() => ({ done: window.__bench?.done, log: document.getElementById('log')?.textContent ?? '', error: window.__bench?.error }));
      const lines = s.log.split('\n');
      for (const l of lines.slice(seen, -1)) console.log(`  ${l}`);
      seen = Math.max(seen, lines.length - 1);
      if (s.done) {
        if (s.error) {
          console.error(`browser benchmark failed: ${s.error}`);
          failed = true;
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    await browser.close();
  } finally {
    try {
      process.kill(-server.pid);
    } catch {}
  }
}
process.exit(failed ? 1 : 0);
