// The workbench tabs' rules: the URL's hash names the tab (anything else is Adapt), and
// the keys of the WAI-ARIA tabs pattern move between them, wrapping at the ends.
import { describe, expect, it } from 'vitest';
import { hashOfTab, TABS, tabAfterKey, tabFromHash } from './tabs';

describe('workbench tabs', () => {
  it('round-trips every tab through the hash; an unknown or empty hash is Adapt', () => {
    for (const t of TABS) expect(tabFromHash(hashOfTab(t.id))).toBe(t.id);
    expect(hashOfTab('adapt')).toBe('');
    expect(hashOfTab('compare')).toBe('#compare');
    expect(tabFromHash('#nope')).toBe('adapt');
    expect(tabFromHash('')).toBe('adapt');
  });

  it('moves with the arrow keys (wrapping), Home and End, and ignores other keys', () => {
    expect(tabAfterKey('adapt', 'ArrowRight')).toBe('experiments');
    expect(tabAfterKey('generate', 'ArrowRight')).toBe('adapt');
    expect(tabAfterKey('adapt', 'ArrowLeft')).toBe('generate');
    expect(tabAfterKey('compare', 'Home')).toBe('adapt');
    expect(tabAfterKey('experiments', 'End')).toBe('generate');
    expect(tabAfterKey('adapt', 'Enter')).toBeNull();
    expect(tabAfterKey('adapt', 'ArrowDown')).toBeNull();
  });
});
