import type { DeviceComponentValue } from '@warden/contracts';
import type { DeviceRecord } from './device-match.js';

type Components = Record<string, DeviceComponentValue>;

/** Chrome 124 on a Windows laptop, encoded as the SDK sends it (objects as 16-hex hashes). */
export function windowsChrome(): Components {
  return {
    fonts: ['Agency FB', 'Calibri', 'Century', 'Century Gothic', 'Franklin Gothic', 'Leelawadee', 'Marlett'],
    domBlockers: null,
    fontPreferences: '9a1c0e53b7d24f60',
    audio: 124.04347527516074,
    screenFrame: '5e0a2f9c81d3b746',
    canvas: 'c4f1a9e2d7b35068',
    osCpu: null,
    languages: ['en-US', 'en-US', 'en'],
    colorDepth: 24,
    deviceMemory: 8,
    screenResolution: '7d3e91a0c5f2b864',
    hardwareConcurrency: 8,
    timezone: 'Europe/Berlin',
    sessionStorage: true,
    localStorage: true,
    indexedDB: true,
    openDatabase: false,
    cpuClass: null,
    platform: 'Win32',
    plugins: [
      'PDF Viewer',
      'Chrome PDF Viewer',
      'Chromium PDF Viewer',
      'Microsoft Edge PDF Viewer',
      'WebKit built-in PDF',
    ],
    touchSupport: '0b5d8e2f4a6c1397',
    vendor: 'Google Inc.',
    vendorFlavors: ['chrome'],
    cookiesEnabled: true,
    colorGamut: 'srgb',
    invertedColors: null,
    forcedColors: false,
    monochrome: 0,
    contrast: 0,
    reducedMotion: false,
    reducedTransparency: false,
    hdr: false,
    math: 'e8b2c4d6f0a19375',
    pdfViewerEnabled: true,
    architecture: 127,
    applePay: -1,
    privateClickMeasurement: null,
    audioBaseLatency: 0.01,
    dateTimeLocale: 'en-US',
    webGlBasics: '3f8a6c2e9d1b0745',
    webGlExtensions: 'a7c3e5f1b9d20864',
    userAgentData: '61d4b8f2a0c3e957',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  };
}

/** The same browser after updating to Chrome 125, a release that changed canvas rendering. */
export function afterBrowserUpdate(before: Components): Components {
  return {
    ...before,
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
    userAgentData: '0c9e7a5b3d1f2846',
    canvas: 'f2d8b6a4c0e19357',
    plugins: ['PDF Viewer', 'Chrome PDF Viewer', 'Chromium PDF Viewer', 'Microsoft Edge PDF Viewer'],
    domBlockers: [],
  };
}

/**
 * Another Windows laptop with Chrome 124 in the same place and language: another GPU, CPU and
 * screen, another audio stack, partly other fonts.
 */
export function otherWindowsChrome(): Components {
  return {
    ...windowsChrome(),
    fonts: ['Calibri', 'Century', 'Leelawadee', 'Marlett', 'MS Outlook', 'MS Reference Specialty'],
    fontPreferences: '4b7e1d9a0c3f5826',
    audio: 124.04344968475198,
    canvas: '0e6b3a8d2f5c9174',
    webGlBasics: 'd5a0f7c3e1b94826',
    webGlExtensions: '8c1f4a7d0e3b6925',
    screenResolution: '2b9f6d1e8a4c7035',
    screenFrame: '91c7e3a5f0b2d864',
    hardwareConcurrency: 12,
    audioBaseLatency: 0.005333333333333333,
  };
}

/** The network key of the home the test devices are seen from. */
export const HOME_NETWORK = 'net_home';

export function record(
  id: string,
  components: Components,
  lastSeenMs = 0,
  observations = 1,
  networks: readonly string[] = [HOME_NETWORK],
): DeviceRecord {
  return { id, components, networks, lastSeenMs, observations };
}
