/**
 * Known Xiaomi (MIUI / HyperOS) settings that stop Appium, recognised from the error text the driver
 * passes on, each with what a lab engineer must change in Developer options. Pure: text in, advice out.
 */

/** A recognised obstacle. */
export interface XiaomiObstacle {
  /** Which one. */
  kind: 'install-via-usb' | 'usb-debugging-security' | 'miui-optimization';
  /** What happened, in one line. */
  summary: string;
  /** What to turn on or off, and where. */
  advice: string;
}

const DEV_OPTIONS = 'Settings > Additional settings > Developer options';

const RULES: { test: RegExp; obstacle: XiaomiObstacle }[] = [
  {
    // The phone refused an adb install: its "Install via USB" prompt was declined, timed out, or the
    // setting is off. Appium installs its server and settings APKs this way.
    test: /INSTALL_FAILED_USER_RESTRICTED|INSTALL_CANCELLED_BY_USER|Install canceled by user|Installation via USB is disabled/i,
    obstacle: {
      kind: 'install-via-usb',
      summary: 'the phone refused to install an APK over USB (INSTALL_FAILED_USER_RESTRICTED)',
      advice:
        `on the phone, in ${DEV_OPTIONS}, turn on "Install via USB" (MIUI asks for a signed-in Mi account, ` +
        'some models also a SIM card) and accept the install prompt when it appears during setup; ' +
        'if installs are still refused, turn off "MIUI optimization" there and let the phone restart',
    },
  },
  {
    // adb's shell user lacks the permissions MIUI gates behind "USB debugging (Security settings)":
    // input injection (taps), writing secure settings, granting runtime permissions.
    test: /INJECT_EVENTS permission|requires:?\s*android\.permission\.WRITE_SECURE_SETTINGS|Neither user 2000 nor current process has android\.permission\.(GRANT_RUNTIME_PERMISSIONS|WRITE_SECURE_SETTINGS)/i,
    obstacle: {
      kind: 'usb-debugging-security',
      summary: 'MIUI denied adb the permission to tap, change settings or grant permissions',
      advice:
        `on the phone, in ${DEV_OPTIONS}, turn on "USB debugging (Security settings)" (needs a signed-in ` +
        'Mi account and a SIM card on some models), then unplug and replug the phone',
    },
  },
  {
    // The Appium Settings helper is killed or never comes to the foreground: MIUI's app management
    // (part of "MIUI optimization") stops background helpers started over adb.
    test: /Appium Settings app is not running after|io\.appium\.settings.*(is not running|not started|has died)|cannot start the 'io\.appium\.settings' application/i,
    obstacle: {
      kind: 'miui-optimization',
      summary: 'the phone stopped the Appium Settings helper (io.appium.settings)',
      advice:
        `on the phone, in ${DEV_OPTIONS}, turn off "MIUI optimization" (on HyperOS it is hidden: tap ` +
        '"Reset to default values" there several times to show it) and let the phone restart; also allow ' +
        'Autostart for "Appium Settings" in Security > Permissions',
    },
  },
];

/** The obstacle an error text shows, if it is one of the known ones. */
export function explainObstacle(errorText: string): XiaomiObstacle | undefined {
  return RULES.find((r) => r.test.test(errorText))?.obstacle;
}
