import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDurable } from './durable-fs.js';
import { RemotePGlite } from './pglite-remote.js';

/**
 * Guarantees protected here: on embedded storage a commit is flushed to disk before the answer;
 * the WAL reaches the disk before the data it describes; nothing is removed or renamed, and the
 * control file is not rewritten, before what was written earlier is on disk; files outside the
 * data folder are left alone.
 */
describe('durable writes for PGlite', () => {
  let root = '';
  let outside = '';
  /** Every real call, in order: ['write', file] or ['flush', file]. */
  let log: [string, string][] = [];
  let target: typeof fs;
  let durable: ReturnType<typeof makeDurable>;
  const names = new Map<number, string>();

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-durable-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-outside-'));
    fs.mkdirSync(path.join(root, 'pg_wal'));
    fs.mkdirSync(path.join(root, 'global'));
    fs.mkdirSync(path.join(root, 'base'));
    log = [];
    // A stand-in for Node's fs whose calls are recorded, so that the order can be checked.
    target = { ...fs, constants: fs.constants } as typeof fs;
    const name = (fd: number) => names.get(fd) ?? `fd${fd}`;
    target.openSync = ((p: string, flags: string | number, mode?: number) => {
      const fd = fs.openSync(p, flags, mode);
      names.set(fd, path.relative(root, p) || '.');
      return fd;
    }) as typeof fs.openSync;
    target.writeSync = ((fd: number, ...rest: unknown[]) => {
      log.push(['write', name(fd)]);
      return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync;
    target.fdatasyncSync = (fd: number) => {
      log.push(['flush', name(fd)]);
      fs.fdatasyncSync(fd);
    };
    target.fsyncSync = (fd: number) => {
      log.push(['flush', name(fd)]);
      fs.fsyncSync(fd);
    };
    target.unlinkSync = (p: fs.PathLike) => {
      log.push(['unlink', path.relative(root, String(p))]);
      fs.unlinkSync(p);
    };
    durable = makeDurable(target, root);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  const open = (rel: string) => target.openSync(path.join(root, rel), 'w');
  const write = (fd: number) => target.writeSync(fd, Buffer.from('x'));
  /** A WAL segment and a data file, each written once, WAL first. */
  const walThenData = () => {
    const wal = open('pg_wal/000000010000000000000001');
    const data = open('base/16384');
    write(wal);
    write(data);
    return { wal, data };
  };

  it('flushes the WAL written since the last commit, and new names, at commit', () => {
    const wal = open('pg_wal/000000010000000000000001');
    write(wal);
    expect(durable.pending()).toBe(true);
    log = [];
    durable.commit();
    expect(log).toContainEqual(['flush', 'pg_wal/000000010000000000000001']);
    // The folder that got a new file is flushed too, so that the name survives.
    expect(log).toContainEqual(['flush', 'pg_wal']);
    expect(durable.pending()).toBe(false);
    log = [];
    durable.commit();
    expect(log).toEqual([]);
    target.closeSync(wal);
  });

  it('puts the WAL on disk before the data it describes', () => {
    const { wal, data } = walThenData();
    expect(log).toEqual([
      ['write', 'pg_wal/000000010000000000000001'],
      ['flush', 'pg_wal/000000010000000000000001'],
      ['write', 'base/16384'],
    ]);
    target.closeSync(wal);
    target.closeSync(data);
  });

  it('puts everything on disk before the control file, a removal or a closed file', () => {
    const { wal, data } = walThenData();
    const control = open('global/pg_control');
    log = [];
    write(control);
    expect(log.at(-1)).toEqual(['write', 'global/pg_control']);
    expect(log).toContainEqual(['flush', 'base/16384']);

    write(data);
    fs.writeFileSync(path.join(root, 'pg_wal/old'), 'x');
    log = [];
    target.unlinkSync(path.join(root, 'pg_wal/old'));
    expect(log.at(-1)).toEqual(['unlink', 'pg_wal/old']);
    expect(log).toContainEqual(['flush', 'base/16384']);
    expect(log).toContainEqual(['flush', 'global/pg_control']);

    write(data);
    log = [];
    target.closeSync(data);
    expect(log).toEqual([['flush', 'base/16384']]);
    target.closeSync(wal);
    target.closeSync(control);
  });

  it('leaves files outside the data folder alone', () => {
    const fd = target.openSync(path.join(outside, 'log'), 'w');
    write(fd);
    durable.commit();
    target.closeSync(fd);
    expect(log.filter(([kind]) => kind === 'flush')).toEqual([]);
    expect(durable.stats.fileFlushes).toBe(0);
  });

  it('has the database thread flush each write before it answers', async () => {
    const db = await RemotePGlite.open(path.join(root, 'pg'));
    try {
      await db.query('create table t (id int primary key)');
      const before = await db.durability();
      expect(before?.pending).toBe(false);
      await db.query('insert into t values (1)');
      const after = await db.durability();
      expect(after?.pending).toBe(false);
      expect(after?.fileFlushes).toBeGreaterThan(before?.fileFlushes ?? Number.POSITIVE_INFINITY);
      await expect(db.query('insert into t values (1)')).rejects.toThrow(/duplicate/);
      await db.query('insert into t values (2)');
      expect((await db.durability())?.pending).toBe(false);
    } finally {
      await db.close();
    }
    const inMemory = await RemotePGlite.open(null);
    expect(await inMemory.durability()).toBeNull();
    await inMemory.close();
  });
});
