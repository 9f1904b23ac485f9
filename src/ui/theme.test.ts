// index.html applies the kept theme before first paint with a copy of theme.ts's key and
// values: this holds the two together.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { THEME_KEY } from './theme';

describe('theme boot script', () => {
  const html = readFileSync(new URL('../../index.html', import.meta.url), 'utf8');
  const boot = html.match(/<script>([\s\S]*?)<\/script>/)?.[1] ?? '';

  it('reads the key theme.ts keeps the choice under, before the module script', () => {
    expect(boot).toContain(`localStorage.getItem('${THEME_KEY}')`);
    expect(html.indexOf(boot)).toBeLessThan(html.indexOf('type="module"'));
  });

  it('sets data-theme only for light and dark, and survives blocked storage', () => {
    const run = (stored: string | null, blocked = false) => {
      const root = { dataset: {} as Record<string, string> };
      const storage = { getItem: (k: string) => { if (blocked) throw new Error('blocked'); return k === THEME_KEY ? stored : null; } };
      new Function('localStorage', 'document', boot)(storage, { documentElement: root });
      return root.dataset.theme;
    };
    expect(run('dark')).toBe('dark');
    expect(run('light')).toBe('light');
    expect(run('system')).toBeUndefined();
    expect(run(null)).toBeUndefined();
    expect(run('dark', true)).toBeUndefined();
  });
});
