// Makes PGlite's writes durable. PGlite runs Postgres with fsync off, and its WebAssembly file
// layer answers fsync and fdatasync without doing anything: a commit reaches the operating system's
// page cache, so it survives Warden being killed but not a power cut or a kernel crash. PGlite
// reaches the disk through Node's `fs` object, call by call (`fs.writeSync(fd, …)` and the like),
// so this wraps those calls on the database thread and keeps the three promises Postgres makes
// with fsync on:
//
// 1. A commit is on disk before the answer: `commit()` flushes the write-ahead log (WAL) segments
//    written since the last flush; the database thread calls it after each write, before replying.
// 2. The WAL reaches the disk before the data it describes: before a data file is written, the
//    WAL written so far is flushed.
// 3. Nothing is removed or renamed, and the control file (which says where recovery starts) is
//    not rewritten, until everything written before is on disk; a file created or renamed has
//    its folder flushed too, so that its name survives.
//
// Plain JavaScript: the database thread loads it outside tsx.
import path from 'node:path';

/**
 * Wraps `target` (Node's `fs`, or a stand-in in tests) for the files under `root`; returns what
 * the database thread calls at each commit, and counters for tests.
 */
export function makeDurable(target, root) {
  const real = {};
  for (const name of [
    'openSync',
    'closeSync',
    'writeSync',
    'writeFileSync',
    'ftruncateSync',
    'truncateSync',
    'unlinkSync',
    'renameSync',
    'rmdirSync',
    'mkdirSync',
    'fdatasyncSync',
    'fsyncSync',
  ]) {
    real[name] = target[name].bind(target);
  }
  const base = path.resolve(root);
  const inRoot = (p) => {
    const abs = path.resolve(String(p));
    return abs === base || abs.startsWith(base + path.sep);
  };
  const walDir = `${path.sep}pg_wal${path.sep}`;
  const controlFile = `${path.sep}global${path.sep}pg_control`;

  /** Open files under root, by descriptor: whether each is WAL or the control file. */
  const files = new Map();
  const dirtyWal = new Set();
  const dirtyOther = new Set();
  /** Folders with a new or renamed name not yet on disk. */
  const dirtyDirs = new Set();
  const stats = { fileFlushes: 0, dirFlushes: 0 };

  function flushFiles(set) {
    for (const fd of set) {
      real.fdatasyncSync(fd);
      stats.fileFlushes++;
    }
    set.clear();
  }
  function flushDirs() {
    for (const dir of dirtyDirs) {
      let fd;
      try {
        fd = real.openSync(dir, 'r');
      } catch (error) {
        // Removed since: nothing of it to keep.
        if (error?.code === 'ENOENT') continue;
        throw error;
      }
      try {
        real.fsyncSync(fd);
        stats.dirFlushes++;
      } finally {
        real.closeSync(fd);
      }
    }
    dirtyDirs.clear();
  }
  /** Everything written so far, on disk: before a removal, a rename or the control file. */
  function barrier() {
    flushFiles(dirtyWal);
    flushFiles(dirtyOther);
    flushDirs();
  }

  target.openSync = (p, flags, mode) => {
    const fd = real.openSync(p, flags, mode);
    if (inRoot(p)) {
      const abs = path.resolve(String(p));
      files.set(fd, { wal: abs.includes(walDir), control: abs.endsWith(controlFile) });
      const creates =
        typeof flags === 'number' ? (flags & target.constants.O_CREAT) !== 0 : /[wa]/.test(String(flags));
      if (creates) dirtyDirs.add(path.dirname(abs));
    }
    return fd;
  };
  target.writeSync = (fd, ...rest) => {
    const file = files.get(fd);
    if (file?.control) barrier();
    else if (file && !file.wal && dirtyWal.size > 0) flushFiles(dirtyWal);
    const written = real.writeSync(fd, ...rest);
    if (file) (file.wal ? dirtyWal : dirtyOther).add(fd);
    return written;
  };
  target.ftruncateSync = (fd, ...rest) => {
    if (files.has(fd)) barrier();
    const result = real.ftruncateSync(fd, ...rest);
    if (files.has(fd)) dirtyOther.add(fd);
    return result;
  };
  target.closeSync = (fd) => {
    // Flushed before it goes: the descriptor is what a later flush would need.
    const walDirty = dirtyWal.delete(fd);
    if (dirtyOther.delete(fd) || walDirty) {
      real.fdatasyncSync(fd);
      stats.fileFlushes++;
    }
    files.delete(fd);
    return real.closeSync(fd);
  };
  for (const name of ['unlinkSync', 'rmdirSync', 'truncateSync']) {
    target[name] = (p, ...rest) => {
      if (!inRoot(p)) return real[name](p, ...rest);
      barrier();
      const result = real[name](p, ...rest);
      dirtyDirs.add(path.dirname(path.resolve(String(p))));
      return result;
    };
  }
  target.renameSync = (from, to) => {
    if (!inRoot(from) && !inRoot(to)) return real.renameSync(from, to);
    barrier();
    const result = real.renameSync(from, to);
    dirtyDirs.add(path.dirname(path.resolve(String(from))));
    dirtyDirs.add(path.dirname(path.resolve(String(to))));
    return result;
  };
  target.mkdirSync = (p, ...rest) => {
    const result = real.mkdirSync(p, ...rest);
    if (inRoot(p)) dirtyDirs.add(path.dirname(path.resolve(String(p))));
    return result;
  };
  target.writeFileSync = (p, ...rest) => {
    if (typeof p !== 'string' || !inRoot(p)) return real.writeFileSync(p, ...rest);
    barrier();
    real.writeFileSync(p, ...rest);
    const fd = real.openSync(p, 'r');
    try {
      real.fsyncSync(fd);
      stats.fileFlushes++;
    } finally {
      real.closeSync(fd);
    }
    dirtyDirs.add(path.dirname(path.resolve(p)));
  };

  return {
    /** The WAL written so far, and any new names, on disk: call before answering a write. */
    commit() {
      flushFiles(dirtyWal);
      flushDirs();
    },
    /** Whether anything written is not yet on disk (WAL only: data files are covered by it). */
    pending() {
      return dirtyWal.size > 0 || dirtyDirs.size > 0;
    },
    stats,
  };
}
