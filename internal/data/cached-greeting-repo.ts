// GetGreeting's read through Redis (cache-aside, when `data.redis` is set): a greeting is read
// from the cache or loaded from the database and stored; an id that does not exist is cached as
// a short-lived placeholder, so a flood of requests for it does not reach the database; a new
// greeting deletes its key after the insert, so a placeholder cached for its id goes away.
import type { Cache, CacheCodec } from "kratos-ts/cache";
import type { Greeting, GreetingRepo } from "../biz/greeting.js";

/** A {@link GreetingRepo} whose reads go through `cache`; writes go to `repo` and invalidate. */
export class CachedGreetingRepo implements GreetingRepo {
  readonly #repo: GreetingRepo;
  readonly #cache: Cache<Greeting>;

  constructor(repo: GreetingRepo, cache: Cache<Greeting>) {
    this.#repo = repo;
    this.#cache = cache;
  }

  save(greeting: Omit<Greeting, "id">): Promise<Greeting> {
    return this.#cache.invalidateAfter(
      (saved: Greeting) => greetingKey(saved.id),
      () => this.#repo.save(greeting),
    );
  }

  findById(id: bigint): Promise<Greeting | undefined> {
    return this.#cache.getOrLoad(greetingKey(id), () => this.#repo.findById(id));
  }

  /** Stops the cache's outage probe (the Redis client is cmd/server's to close). */
  close(): void {
    this.#cache.close();
  }
}

/** The cache key of greeting `id` (under the cache's prefix). */
export function greetingKey(id: bigint): string {
  return `greeting:${id}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A greeting as JSON, with the id as a string and the time in ms (bigint and Date are not JSON). */
export const greetingCodec: CacheCodec<Greeting> = {
  name: "greeting",
  encode: (g) =>
    encoder.encode(
      JSON.stringify({
        id: String(g.id),
        name: g.name,
        message: g.message,
        t: g.createTime.getTime(),
      }),
    ),
  decode(bytes) {
    const o = JSON.parse(decoder.decode(bytes)) as {
      id: string;
      name: string;
      message: string;
      t: number;
    };
    return { id: BigInt(o.id), name: o.name, message: o.message, createTime: new Date(o.t) };
  },
};
