import {
  type CollectOptions,
  type CollectResult,
  createClient,
  type WardenClient,
  type WardenOptions,
} from './collect.js';
import { type PasswordPatternResult, passwordPattern } from './password-pattern.js';

export type { CollectOptions, CollectResult, PasswordPatternResult, WardenClient, WardenOptions };
export { passwordPattern };

/**
 * Starts Warden in the page: it begins watching how the page is used and warms up the device
 * collectors right away, so call it early (on page load), and call `collect()` when the user submits.
 */
export function init(options: WardenOptions): WardenClient {
  return createClient(options);
}
