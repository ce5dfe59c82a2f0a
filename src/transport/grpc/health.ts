import { KratosError } from "../../errors/error.js";
import { bareStatus } from "../../errors/grpc.js";
import { AsyncQueue } from "../../internal/async-queue.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb.js";
import type { ServiceImpl } from "./service.js";

/** The serving status of a service, as grpc.health.v1 reports it. */
export type ServingStatus = "SERVING" | "NOT_SERVING";

const toProto: Record<ServingStatus, HealthCheckResponse_ServingStatus> = {
  SERVING: HealthCheckResponse_ServingStatus.SERVING,
  NOT_SERVING: HealthCheckResponse_ServingStatus.NOT_SERVING,
};

/**
 * Serving statuses by service name ("" is the server as a whole), with watchers for
 * `Health/Watch`. `shutdown` marks everything NOT_SERVING and ends the watches, so a graceful
 * stop never waits on a health watcher.
 */
export class HealthRegistry {
  readonly #statuses = new Map<string, HealthCheckResponse_ServingStatus>();
  readonly #watchers = new Map<string, Set<AsyncQueue<HealthCheckResponse_ServingStatus>>>();

  set(service: string, status: ServingStatus): void {
    const value = toProto[status];
    if (this.#statuses.get(service) === value) return;
    this.#statuses.set(service, value);
    for (const queue of this.#watchers.get(service) ?? []) queue.push(value);
  }

  get(service: string): HealthCheckResponse_ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Every known service and its status. */
  entries(): [string, HealthCheckResponse_ServingStatus][] {
    return [...this.#statuses];
  }

  watch(service: string): AsyncQueue<HealthCheckResponse_ServingStatus> {
    const queue = new AsyncQueue<HealthCheckResponse_ServingStatus>();
    let set = this.#watchers.get(service);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(service, set);
    }
    set.add(queue);
    queue.push(this.#statuses.get(service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN);
    return queue;
  }

  unwatch(service: string, queue: AsyncQueue<HealthCheckResponse_ServingStatus>): void {
    this.#watchers.get(service)?.delete(queue);
  }

  shutdown(): void {
    for (const service of this.#statuses.keys()) this.set(service, "NOT_SERVING");
    for (const set of this.#watchers.values()) for (const queue of set) queue.end();
    this.#watchers.clear();
  }
}

/** The grpc.health.v1.Health service over a registry. */
export function healthService(registry: HealthRegistry): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = registry.get(req.service);
      if (status === undefined) {
        // A bare NOT_FOUND, no ErrorInfo: what grpc-go's health server sends.
        return Promise.reject(
          bareStatus(new KratosError(404, "", `unknown service "${req.service}"`)),
        );
      }
      return Promise.resolve({ status });
    },
    list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const [service, status] of registry.entries()) {
        statuses[service] = { status } as HealthCheckResponse;
      }
      return Promise.resolve({ statuses });
    },
    async *watch(req, ctx) {
      const signal = ctx.signal;
      // A deadline may have passed already (grpc-timeout: 1n): a listener added now never fires.
      if (signal.aborted) throw signal.reason;
      const queue = registry.watch(req.service);
      const stop = () => {
        queue.end();
      };
      signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const status of queue) yield { status };
        // Ended by the deadline or the client, not by a server stop: say so, not OK.
        if (aborted(signal)) throw signal.reason;
      } finally {
        signal.removeEventListener("abort", stop);
        registry.unwatch(req.service, queue);
      }
    },
  };
}

/** Reads `aborted` anew (a check before an await does not hold after it). */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

export { Health };
