/**
 * A progress line for long work on stderr: redrawn in place on a terminal, a line every 10% when
 * output goes to a file or CI log.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, detail = ''): void {
    const now = Date.now();
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const tenth = Math.floor(fraction * 10);
    if (this.tty) {
      if (now - this.lastDraw < 100 && fraction < 1) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      this.stream.write(
        `\r${this.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${this.eta(fraction)} ${detail}\u001b[K`,
      );
    } else if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${this.label} ${(fraction * 100).toFixed(0)}% ${detail}\n`);
    }
  }

  finish(summary: string): void {
    if (this.tty) this.stream.write('\r\u001b[K');
    this.stream.write(`${this.label}: ${summary} in ${((Date.now() - this.started) / 1000).toFixed(1)} s\n`);
  }

  private eta(fraction: number): string {
    if (fraction <= 0 || fraction >= 1) return '';
    const elapsed = (Date.now() - this.started) / 1000;
    return `ETA ${Math.ceil((elapsed / fraction) * (1 - fraction))} s`;
  }
}
