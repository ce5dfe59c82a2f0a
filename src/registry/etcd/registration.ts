import { EtcdLeaseInvalidError } from "etcd3";
import type { Etcd3, Lease } from "etcd3";
import type { Logger } from "../../log/logger.js";
import { retryDelay, sleep } from "./backoff.js";

/** What a {@link Registration} needs from the registry's options (defaults already applied). */
export interface RegistrationSettings {
  client: Etcd3;
  logger: Logger;
  /** Lease TTL in seconds. */
  ttl: number;
  /** Cap of the retry backoff, milliseconds. */
  maxRetryDelay: number;
  /** Deadline of each etcd call, milliseconds. */
  callTimeout: number;
}

// The first retry waits about this long; later ones double up to maxRetryDelay.
const baseRetryDelay = 200;

/**
 * Keeps one instance's key in etcd for as long as it is registered: grants a lease, puts the
 * key with it, keeps the lease alive every TTL/3 and, whenever etcd says the lease is gone
 * (expired during a pause or a partition, revoked, lost in an etcd restart) or etcd cannot be
 * reached, grants a new lease and puts the key again, with capped backoff, forever. Go Kratos
 * gives up after a few attempts (#856, #3883); an instance that silently vanishes from
 * discovery while it still serves is the worse failure.
 *
 * Logging is per outage, not per attempt: one warning when etcd becomes unreachable, one info
 * line when the key is back.
 */
export class Registration {
  readonly #s: RegistrationSettings;
  readonly #key: string;
  readonly #value: string;
  readonly #stop = new AbortController();
  #lease: Lease | undefined;
  #outage = false;
  #loop: Promise<void> | undefined;

  constructor(settings: RegistrationSettings, key: string, value: string) {
    this.#s = settings;
    this.#key = key;
    this.#value = value;
  }

  /**
   * Starts the loop. Resolves once the key is first put, or once the first attempt failed (the
   * loop goes on in the background): an app must serve even while etcd is down.
   */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.#loop = this.#run(resolve);
    });
  }

  /** Stops the loop; with `remove`, deletes the key and revokes the lease (throws if etcd fails). */
  async stop(remove: boolean, deadline: number): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    const lease = this.#lease;
    this.#lease = undefined;
    if (!remove) {
      lease?.release();
      return;
    }
    await this.#s.client.delete().key(this.#key).options({ deadline }).exec();
    // Revoking would also delete the key, but only if the lease is still the one the key has:
    // the explicit delete covers a key put by a lease this loop has since replaced.
    if (lease !== undefined) {
      await lease.revoke({ deadline }).catch((err: unknown) => {
        if (!(err instanceof EtcdLeaseInvalidError)) throw err;
      });
    }
  }

  async #run(started: () => void): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.#put();
        failures = 0;
        this.#reachable();
        started();
        await this.#keepAlive(signal);
      } catch (err) {
        this.#unreachable(err);
        started();
        await sleep(retryDelay(failures++, baseRetryDelay, this.#s.maxRetryDelay), signal);
      }
    }
    started();
  }

  async #put(): Promise<void> {
    const deadline = Date.now() + this.#s.callTimeout;
    const lease = this.#s.client.lease(this.#s.ttl, { autoKeepAlive: false, deadline });
    // etcd3 emits `lost` when a keepalive finds the lease gone; this loop learns that from the
    // rejected keepalive instead, and an EventEmitter without listeners is fine for `lost`.
    this.#lease?.release();
    this.#lease = lease;
    await lease.grant();
    await lease.put(this.#key).value(this.#value).options({ deadline }).exec();
  }

  /**
   * Keeps the current lease alive until etcd says it is gone (returns, so the caller puts the
   * key again) or the registration stops. While etcd is unreachable, keeps trying with backoff:
   * when it comes back within the TTL, the lease (and the key) are still there.
   */
  async #keepAlive(signal: AbortSignal): Promise<void> {
    const interval = (this.#s.ttl * 1000) / 3;
    let failures = 0;
    while (!signal.aborted) {
      const wait =
        failures === 0
          ? interval
          : Math.min(interval, retryDelay(failures - 1, baseRetryDelay, this.#s.maxRetryDelay));
      await sleep(wait, signal);
      const lease = this.#lease;
      if (this.#stopped() || lease === undefined) return;
      try {
        await lease.keepaliveOnce({ deadline: Date.now() + this.#s.callTimeout });
        failures = 0;
        this.#reachable();
      } catch (err) {
        if (err instanceof EtcdLeaseInvalidError) {
          this.#s.logger.warn({ key: this.#key }, "etcd lease lost, registering again");
          return;
        }
        failures++;
        this.#unreachable(err);
      }
    }
  }

  // A method, not `signal.aborted` inline: TypeScript keeps a narrowed `false` across awaits.
  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #unreachable(err: unknown): void {
    if (this.#outage || this.#stopped()) return;
    this.#outage = true;
    this.#s.logger.warn(
      { key: this.#key, err: err instanceof Error ? err.message : String(err) },
      "etcd unreachable, will keep trying",
    );
  }

  #reachable(): void {
    if (!this.#outage) return;
    this.#outage = false;
    this.#s.logger.info({ key: this.#key }, "etcd reachable again, instance registered");
  }
}
