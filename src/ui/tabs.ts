// The workbench's tabs: which there are, which one the URL's hash names (#experiments,
// #compare, #generate; none is Adapt), and where the arrow keys, Home and End move (the
// WAI-ARIA tabs pattern, wrapping at the ends). Pure, so the rules are unit-tested in Node.
export const TABS = [
  { id: 'adapt', label: 'Adapt' },
  { id: 'experiments', label: 'Experiments' },
  { id: 'compare', label: 'Compare & export' },
  { id: 'generate', label: 'Generate' },
] as const;

export type TabId = (typeof TABS)[number]['id'];

const DEFAULT_TAB: TabId = 'adapt';

export function tabFromHash(hash: string): TabId {
  const id = hash.replace(/^#/, '');
  return TABS.find((t) => t.id === id)?.id ?? DEFAULT_TAB;
}

/** The hash that names `tab` ('' for the default, so a plain link opens it). */
export function hashOfTab(tab: TabId): string {
  return tab === DEFAULT_TAB ? '' : `#${tab}`;
}

/** The tab a key press on `current` moves to, or null for keys the tab list leaves alone. */
export function tabAfterKey(current: TabId, key: string): TabId | null {
  const i = TABS.findIndex((t) => t.id === current);
  const n = TABS.length;
  switch (key) {
    case 'ArrowRight':
      return TABS[(i + 1) % n].id;
    case 'ArrowLeft':
      return TABS[(i - 1 + n) % n].id;
    case 'Home':
      return TABS[0].id;
    case 'End':
      return TABS[n - 1].id;
    default:
      return null;
  }
}
