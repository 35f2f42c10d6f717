import { Redis } from 'ioredis';
import { redactDatabaseUrl } from './config.js';

/**
 * Connects to Redis (distributed mode) and fails fast, with the fix, when it cannot: a node that
 * cannot reach the shared counters must not start and answer with counts of its own.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `Cannot reach Redis at ${redactDatabaseUrl(url)} (${error instanceof Error ? error.message : error}). Start Redis or fix REDIS_URL.`,
    );
  }
  return redis;
}
