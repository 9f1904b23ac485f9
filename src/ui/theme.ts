// Light, dark, or whatever the system prefers: the choice is kept in this browser and set as
// data-theme on the root element, where styles.css picks the colours (light-dark()).
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'prefix-lab-theme';

export function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
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
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // not kept: it still applies to this visit
  }
}
