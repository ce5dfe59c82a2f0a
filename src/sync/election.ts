import { Election } from "etcd3";
import type { Campaign } from "etcd3";
import { reasons } from "../errors/reasons.js";
import { Holding, giveBackLease, once, readFencingToken } from "./holding.js";
import { cancelWatchers, leaseOf } from "./etcd3-internals.js";
import { LeaseGuard } from "./lease-guard.js";
import { EtcdLeaderObserver } from "./observer.js";
import type { LeaderObserver, ObserveOptions } from "./observer.js";
import type { SyncRuntime } from "./runtime.js";
import { WaitLimit, etcdCall, race } from "./wait.js";

/** Options of {@link EtcdSync.election}. */
export interface ElectionOptions {
  /**
   * The lease TTL in seconds: how long a crashed or cut-off leader stays leader in etcd, so a
   * new leader is elected within about this long after the old one dies. Default: the sync
   * client's `ttl` (15).
   */
  ttl?: number;
}

/** Options of {@link LeaderElection.campaign}. */
export interface CampaignOptions {
  /** Ends the wait: `campaign` rejects with the signal's reason and withdraws the candidate. */
  signal?: AbortSignal;
  /**
   * The longest `campaign` waits to be elected, in ms, before it rejects with 504
   * `ELECTION_TIMEOUT` (503 `ETCD_UNAVAILABLE` when etcd was not answering). Default: no limit
   * (a standby waits for its turn); `signal` or the sync client's `close()` still end it.
   */
  timeout?: number;
}

/** This process leads an election; see {@link LeaderElection.campaign}. */
export interface Leadership {
  /** The election's name. */
  readonly election: string;
  /** The value this candidate campaigned with, which observers see as the leader. */
  readonly value: string;
  /**
   * etcd's revision when this candidate joined (its key's create revision). Each leader of an
   * election has a larger one than the leader before it: a fencing token for the job's writes.
   */
  readonly fencingToken: bigint;
  /**
   * Aborts when this process is no longer the leader: with 503 `SESSION_LOST` when the lease is
   * lost (etcd unreachable for the TTL, the lease revoked or expired, the sync client closed),
   * no later than etcd can elect another leader; with an `AbortError` after `resign()`. The
   * singleton job stops when it aborts.
   */
  readonly signal: AbortSignal;
  /** Steps down (revokes the lease) so another candidate is elected now. Never throws; idempotent. */
  resign(): Promise<void>;
}

/** A named election in etcd; see {@link EtcdSync.election}. */
export interface LeaderElection {
  /** The election's name. */
  readonly name: string;
  /**
   * Enters the election with `value` (a host name, an address) and resolves once this
   * candidate is the leader. While etcd is unreachable it keeps trying, with backoff.
   * Rejects only when `signal` aborts (its reason), `timeout` passes (504 `ELECTION_TIMEOUT`,
   * or 503 `ETCD_UNAVAILABLE`), or the sync client closes (503 `SESSION_LOST`).
   */
  campaign(value: string, options?: CampaignOptions): Promise<Leadership>;
  /** The current leader's value, or undefined when there is none; 503 `ETCD_UNAVAILABLE` on failure. */
  leader(): Promise<string | undefined>;
  /** Follows the leader; see {@link LeaderObserver}. */
  observe(options?: ObserveOptions): LeaderObserver;
}

/** etcd3's election under `election/<name>/` of the sync namespace, with a lease guard. */
export class EtcdElection implements LeaderElection {
  readonly name: string;
  readonly #rt: SyncRuntime;
  readonly #election: Election;
  readonly #ttl: number;

  constructor(rt: SyncRuntime, name: string, options: ElectionOptions) {
    this.#rt = rt;
    this.name = name;
    this.#ttl = options.ttl ?? rt.ttl;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 1) {
      throw new RangeError(`election ${name}: ttl must be a whole number of seconds >= 1`);
    }
    this.#election = rt.namespace.election(name, this.#ttl);
  }

  async campaign(value: string, options: CampaignOptions = {}): Promise<Leadership> {
    const rt = this.#rt;
    const timeout = options.timeout ?? Infinity;
    const limit = new WaitLimit(
      rt,
      `election ${this.name}`,
      { signal: options.signal, timeout },
      reasons.electionTimeout,
    );
    try {
      for (let failures = 0; ;) {
        try {
          const leadership = await this.#campaignOnce(value, limit.signal);
          rt.outage.recovered();
          return leadership;
        } catch (err) {
          // A failed campaign (etcd down, the lease lost while waiting) starts over.
          await limit.backOff(err, failures++);
        }
      }
    } catch (err) {
      throw limit.failure(err);
    } finally {
      limit.dispose();
    }
  }

  leader(): Promise<string | undefined> {
    return etcdCall(this.#election.leader(), this.#rt.callTimeout, `election ${this.name}`);
  }

  observe(options: ObserveOptions = {}): LeaderObserver {
    return new EtcdLeaderObserver(this.#rt, this.#election, options);
  }

  async #campaignOnce(value: string, signal: AbortSignal): Promise<Leadership> {
    const rt = this.#rt;
    const what = `leadership of ${this.name}`;
    const since = Date.now();
    // Each attempt has an etcd3 Election (a watch manager) of its own, so that the watch of a
    // candidate that gave up waiting goes with it: etcd3 keeps it until the leader's key goes.
    const election = rt.namespace.election(this.name, this.#ttl);
    const campaign = election.campaign(value);
    const giveBack = once(rt, async () => {
      await this.#resign(campaign);
      await cancelWatchers(election, rt.callTimeout);
    });
    const guard = new LeaseGuard(leaseOf(campaign), this.#ttl, since, what, () => {
      void giveBack();
    });
    // etcd3 reports a failed grant, a failed put or a lost lease as `error`, maybe twice; with
    // no listener the EventEmitter would throw.
    campaign.on("error", (err) => {
      guard.lose("the campaign failed", err);
    });
    const elected = new Promise<void>((resolve) =>
      campaign.once("elected", () => {
        resolve();
      }),
    );
    try {
      await race(elected, AbortSignal.any([signal, guard.signal]));
    } catch (err) {
      guard.end();
      void giveBack();
      throw err;
    }
    const fencingToken = await readFencingToken(rt, what, guard, signal, giveBack, async () => {
      const leaseId = await leaseOf(campaign).grant();
      return { key: `${Election.prefix}/${this.name}/${leaseId}`, leaseId };
    });
    return new Lead(this.name, value, fencingToken, guard, rt, giveBack);
  }

  /** Revokes the campaign's lease; a failure only delays the next leader. */
  #resign(campaign: Campaign): Promise<void> {
    return giveBackLease(
      this.#rt,
      () => campaign.resign(),
      { election: this.name },
      "could not resign in etcd; the leadership ends when its lease expires",
    );
  }
}

class Lead extends Holding implements Leadership {
  readonly election: string;
  readonly value: string;
  readonly fencingToken: bigint;

  constructor(
    election: string,
    value: string,
    fencingToken: bigint,
    guard: LeaseGuard,
    rt: SyncRuntime,
    giveBack: () => Promise<void>,
  ) {
    super(guard, rt, giveBack);
    this.election = election;
    this.value = value;
    this.fencingToken = fencingToken;
  }

  resign(): Promise<void> {
    return this.end();
  }
}
