/** What the profile summaries (profile-summary, alloc-profile, gc-summary) share. */

/** A V8 call frame, as CPU and heap profiles give it. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** A function as the summaries list it: its name, the last two parts of its file, its line. */
export function frameLabel({ functionName, url, lineNumber }: CallFrame): string {
  return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
}

/** The number after `--name` on the command line; null when the flag is absent. */
export function numberArg(name: string): number | null {
  const at = process.argv.indexOf(name);
  if (at < 0) return null;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number ≥ 0`);
  return value;
}
