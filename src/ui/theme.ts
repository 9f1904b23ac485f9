// Light, dark, or whatever the system prefers: the choice is kept in this browser and set as
// data-theme on the root element, where styles.css picks the colours (light-dark()).
export type ThemeChoice = 'system' | 'light' | 'dark';

/** localStorage key of the choice; index.html's boot script reads it before first paint. */
export const THEME_KEY = 'prefix-lab-theme';

export function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system'; // storage blocked: follow the system
  }
}

export function applyTheme(choice: ThemeChoice) {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    // not kept: it still applies to this visit
  }
}
