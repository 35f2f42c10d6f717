import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A Redis key prefix of this test's own, so runs and files never see each other's counters. */
export const redisTestPrefix = () => `warden_test_${randomBytes(6).toString('hex')}:`;

/** Every key under the prefix (SCAN, not KEYS: the Redis may be shared with other runs). */
export async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

/** Deletes what a test left under its prefix. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const keys = await redisKeys(prefix);
  if (keys.length === 0) return;
  const redis = new Redis(REDIS_URL);
  try {
    await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
