// Light and dark themes: follows the system until the person picks one.

export type ThemeChoice = "system" | "light" | "dark";

const KEY = "handoff.theme";

function stored(): ThemeChoice {
  // Synchronous and not IPC, so not attempt(): localStorage throws where storage is disabled.
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

/** The next choice in the toggle cycle system → light → dark → system. */
export function nextTheme(t: ThemeChoice): ThemeChoice {
  return t === "system" ? "light" : t === "light" ? "dark" : "system";
}

class Theme {
  choice = $state<ThemeChoice>(stored());

  apply() {
    const root = document.documentElement;
    if (this.choice === "system") delete root.dataset.theme;
    else root.dataset.theme = this.choice;
  }

  toggle() {
    this.choice = nextTheme(this.choice);
    try {
      localStorage.setItem(KEY, this.choice);
    } catch {
      // storage unavailable: the choice lasts for this session
    }
    this.apply();
  }
}

export const theme = new Theme();
