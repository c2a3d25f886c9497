/**
 * A simulated phone's system properties and settings tables, the consent toggles read through them,
 * and the network switches they hold (Wi-Fi, airplane mode, mobile data).
 */
import type { ConsentToggle } from './profile.js';
import type { SettingsNamespace, StateCore } from './state-types.js';

/** Where Android keeps the location switch, for a profile that does not name it. */
const LOCATION_MODE = { namespace: 'secure', key: 'location_mode', on: '3' } as const;

export class SystemSettings {
  /** System properties. */
  readonly props = new Map<string, string>();
  /** Settings tables. */
  readonly tables: Record<SettingsNamespace, Map<string, string>> = {
    global: new Map(),
    secure: new Map(),
    system: new Map(),
  };

  constructor(private readonly core: StateCore) {}

  /** Sets a property and reports the change. */
  setProp(key: string, value: string): void {
    this.props.set(key, value);
    this.core.emitChange('property');
  }

  /** Reads a setting (undefined when missing). */
  get(ns: SettingsNamespace, key: string): string | undefined {
    return this.tables[ns].get(key);
  }

  /** Writes a setting; airplane mode, Wi-Fi and consent follow. */
  put(ns: SettingsNamespace, key: string, value: string): void {
    const was = this.tables[ns].get(key);
    this.tables[ns].set(key, value);
    this.core.emitChange('setting');
    this.core.settingWritten(ns, key, was, value);
  }

  /** Deletes a setting; true if it existed. */
  delete(ns: SettingsNamespace, key: string): boolean {
    const had = this.tables[ns].delete(key);
    if (had) this.core.emitChange('setting');
    return had;
  }

  /** Whether a consent toggle is on, read through the profile's setting mapping. */
  consent(toggle: ConsentToggle): boolean {
    if (toggle === 'locationOn') return this.locationOn;
    const ref = this.core.profile.consent[toggle];
    return ref !== undefined && this.tables[ref.namespace].get(ref.key) === ref.on;
  }

  /**
   * Location on: its setting holds anything but "0" (Android's location_mode: 1 sensors only, 2
   * battery saving, 3 high accuracy all mean on). A phone whose profile names no location setting
   * has it off.
   */
  get locationOn(): boolean {
    const ref = this.core.profile.consent.locationOn ?? LOCATION_MODE;
    const v = this.tables[ref.namespace].get(ref.key);
    return v !== undefined && v !== '' && v !== '0';
  }

  /** Turns location on (high accuracy, as the switch does) or off. */
  setLocation(on: boolean): void {
    const ref = this.core.profile.consent.locationOn ?? LOCATION_MODE;
    this.put(ref.namespace, ref.key, on ? ref.on : '0');
  }

  /** Turns a consent toggle on or off by writing its setting. */
  setConsent(toggle: ConsentToggle, on: boolean): void {
    const ref = this.core.profile.consent[toggle];
    if (!ref) throw new Error(`this phone has no ${toggle} setting`);
    this.put(ref.namespace, ref.key, on ? ref.on : ref.on === '0' ? '1' : '0');
  }

  /** Wi-Fi radio enabled (settings global wifi_on). */
  get wifiEnabled(): boolean {
    return this.tables.global.get('wifi_on') !== '0';
  }

  /** Airplane mode (settings global airplane_mode_on). */
  get airplaneMode(): boolean {
    return this.tables.global.get('airplane_mode_on') === '1';
  }

  /** Mobile data enabled (settings global mobile_data). */
  get mobileData(): boolean {
    return this.tables.global.get('mobile_data') !== '0';
  }

  setWifi(on: boolean): void {
    this.put('global', 'wifi_on', on ? '1' : '0');
    this.core.logLine(
      4,
      'WifiService',
      `setWifiEnabled package=com.android.shell uid=2000 enable=${on}`,
      1000,
    );
  }

  setAirplaneMode(on: boolean): void {
    this.put('global', 'airplane_mode_on', on ? '1' : '0');
    this.core.logLine(4, 'ConnectivityService', `setAirplaneMode(${on})`, 1000);
  }

  setMobileData(on: boolean): void {
    this.put('global', 'mobile_data', on ? '1' : '0');
  }
}
