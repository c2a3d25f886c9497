/** A simulated phone's display: on or off, the keyguard (swipe or PIN), and wm's size overrides. */
import type { StateCore } from './state-types.js';

export class ScreenState {
  /** Display on. */
  on = true;
  /** Keyguard showing. */
  locked = false;
  /** wm size / density overrides. */
  displayOverride: { width?: number; height?: number; density?: number } = {};
  /** Digits typed on the PIN keyguard so far. */
  private pinEntry = '';
  /**
   * Text typed into editable views (UiAutomator2's setValue), by element key
   * (`WINDOW|path|class|package|resource-id|content-desc`): the app reads its form from here.
   */
  readonly typed = new Map<string, string>();

  constructor(private readonly core: StateCore) {}

  /** Turns the display on or off; turning it off locks (when the profile has a lock screen). */
  set(on: boolean): void {
    if (on === this.on) return;
    this.on = on;
    if (!on && this.core.profile.screen.lock !== 'none') this.locked = true;
    this.core.logLine(
      4,
      'PowerManagerService',
      on ? 'Waking up from Asleep (uid=2000)...' : 'Going to sleep due to power_button (uid 2000)...',
      1000,
    );
    this.core.emitChange('screen');
  }

  /** Dismisses the keyguard if it is not a secure (PIN) one; true when unlocked afterwards. */
  dismissKeyguard(): boolean {
    if (this.locked && this.core.profile.screen.lock !== 'pin' && this.on) {
      this.locked = false;
      this.core.emitChange('screen');
    }
    return !this.locked;
  }

  /** Typing on the keyguard: digits go into the PIN field, ENTER ("\n") checks it. */
  typeOnKeyguard(text: string): void {
    const screen = this.core.profile.screen;
    if (!this.locked || !this.on || screen.lock !== 'pin') return;
    for (const ch of text) {
      if (/\d/.test(ch)) this.pinEntry += ch;
      else if (ch === '\n') {
        const ok = screen.pin !== undefined && this.pinEntry === screen.pin;
        this.pinEntry = '';
        if (ok) {
          this.locked = false;
          this.core.emitChange('screen');
        } else this.core.logLine(4, 'KeyguardSecurityView', 'wrong PIN', 1500);
      }
    }
  }

  /** Effective screen size and density (wm overrides applied). */
  size(): { width: number; height: number; density: number } {
    const s = this.core.profile.screen;
    return {
      width: this.displayOverride.width ?? s.width,
      height: this.displayOverride.height ?? s.height,
      density: this.displayOverride.density ?? s.density,
    };
  }

  /** The text typed into the view with this resource-id in the window, or '' when none was. */
  typedIn(window: string, resourceId: string): string {
    for (const [key, text] of this.typed) {
      const parts = key.split('|');
      if (parts[0] === window && parts[4] === resourceId) return text;
    }
    return '';
  }

  /** Forgets what was typed in the window (a form submitted, an activity finished). */
  clearTyped(window: string): void {
    for (const key of [...this.typed.keys()]) if (key.startsWith(`${window}|`)) this.typed.delete(key);
  }
}
