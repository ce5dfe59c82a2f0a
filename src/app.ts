/**
 * The app: the lifecycle of one service process (Kratos `kratos.New(...).Run()`). It starts the
 * servers, registers the instance, waits for a stop signal, and shuts everything down in order.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { createContext, createContextKey } from "./context.js";
import type { Context } from "./context.js";
import { discardLogger } from "./log/logger.js";
import type { Logger } from "./log/logger.js";
import type { Registrar, ServiceInstance } from "./registry/registry.js";
import type { Server } from "./transport/transport.js";

/** What a request knows about the app serving it; see {@link appInfo}. */
export interface AppInfo {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The servers' endpoints once started (`http://10.0.0.5:8000`, `grpc://10.0.0.5:9000`). */
  readonly endpoints: readonly string[];
}

/** A lifecycle hook; the context carries the app info. A rejection stops the lifecycle. */
export type AppHook = (ctx: Context) => void | Promise<void>;

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Instance id, unique per process. Default a random UUID (as Kratos). */
  id?: string;
  /** Service name, shared by every instance (`helloworld`). */
  name: string;
  /** Default `""`. */
  version?: string;
  /** Registered with the instance. Default `{}`. */
  metadata?: Record<string, string>;
  /** Default: writes nothing. */
  logger?: Logger;
  /**
   * Started together, stopped together; event subscribers (`kind: "broker"`) start once the
   * others have and stop before them.
   */
  servers?: Server[];
  /** Where the instance is registered after the servers start; none by default. */
  registrar?: Registrar;
  /** Milliseconds for register and deregister each. Default 10 000. */
  registrarTimeout?: number;
  /**
   * Milliseconds the servers get to finish in-flight requests when stopping; after it, their
   * connections are closed and the stop goes on. Event subscribers (`kind: "broker"`) stop
   * first and get a timeout of their own, so the stop may take up to twice as long. Default
   * 10 000.
   */
  stopTimeout?: number;
  /**
   * Signals that stop the app. Default `["SIGINT", "SIGTERM"]`; `[]` listens to none (call
   * {@link App.stop}). A signal that comes during the stop, {@link signalRepeatWindow} or more
   * after the first, forces the process to exit (code 1).
   */
  signals?: NodeJS.Signals[];
  /**
   * Milliseconds after a stop signal during which another one is the same request delivered
   * twice, not a demand to exit at once: Ctrl-C reaches both `npm start` and the service, and
   * npm passes it on again. Default 1000.
   */
  signalRepeatWindow?: number;
  beforeStart?: AppHook[];
  afterStart?: AppHook[];
  beforeStop?: AppHook[];
  afterStop?: AppHook[];
}

/** A service process; see {@link createApp}. */
export interface App extends AppInfo {
  /**
   * Runs the lifecycle: before-start hooks, start every server, register, after-start hooks,
   * wait for a stop signal or {@link App.stop}, before-stop hooks, deregister, stop the servers
   * within the stop timeout, after-stop hooks. Resolves when the app has stopped; rejects with
   * the cause when a step fails (a server that cannot start stops the others first).
   */
  run(): Promise<void>;
  /** Asks a running app to stop; resolves when it has (at once when it is not running). */
  stop(): Promise<void>;
  /** The instance as registered; throws before the servers have started. */
  instance(): ServiceInstance;
}

const defaults = {
  registrarTimeout: 10_000,
  stopTimeout: 10_000,
  signals: ["SIGINT", "SIGTERM"] as NodeJS.Signals[],
  signalRepeatWindow: 1000,
};

const appInfoKey = createContextKey<AppInfo | undefined>(undefined, "app info");

/**
 * The app serving the request (Kratos `kratos.FromContext`): servers started by an app put it
 * in the values of every request context.
 */
export function appInfo(ctx: Context): AppInfo | undefined {
  return ctx.values.get(appInfoKey);
}

/** Creates an app; nothing happens until {@link App.run}. */
export function createApp(options: AppOptions): App {
  return new KratosApp(options);
}

class KratosApp implements App {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly #options: AppOptions;
  readonly #log: Logger;
  readonly #ctx = createContext();
  #endpoints: string[] | undefined;
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  // Resolved by a signal or stop(): the lifecycle then shuts down.
  #requestStop: () => void = () => undefined;
  readonly #stopRequested: Promise<void>;
  #done: Promise<void> | undefined;
  // Aborted when the stop timeout passes (or a start failed): the servers drop their connections.
  readonly #force = new AbortController();

  constructor(options: AppOptions) {
    this.#options = options;
    this.id = options.id ?? randomUUID();
    this.name = options.name;
    this.version = options.version ?? "";
    this.metadata = Object.freeze({ ...options.metadata });
    this.#log = options.logger ?? discardLogger;
    this.#ctx.values.set(appInfoKey, this);
    this.#stopRequested = new Promise<void>((resolve) => {
      this.#requestStop = resolve;
    });
  }

  get endpoints(): readonly string[] {
    return this.#endpoints ?? [];
  }

  instance(): ServiceInstance {
    if (this.#endpoints === undefined) throw new Error("app not started: no endpoints yet");
    return {
      id: this.id,
      name: this.name,
      version: this.version,
      metadata: { ...this.metadata },
      endpoints: [...this.#endpoints],
    };
  }

  run(): Promise<void> {
    if (this.#state !== "new") return Promise.reject(new Error("app.run() called twice"));
    this.#state = "running";
    this.#done = this.#lifecycle();
    return this.#done;
  }

  async stop(): Promise<void> {
    this.#requestStop();
    if (this.#done !== undefined) await this.#done.catch(() => undefined);
  }

  async #lifecycle(): Promise<void> {
    const unlisten = this.#listenToSignals();
    try {
      await this.#runHooks(this.#options.beforeStart);
      await this.#startServers();
      let registered: ServiceInstance | undefined;
      try {
        registered = await this.#register();
        await this.#runHooks(this.#options.afterStart);
        this.#log.info({ endpoints: this.#endpoints }, `${this.name} started`);
      } catch (err) {
        await this.#shutdown(registered, false);
        throw err;
      }
      await this.#stopRequested;
      await this.#shutdown(registered, true);
    } finally {
      this.#state = "stopped";
      unlisten();
    }
  }

  /** Starts the servers that take requests together, then the event subscribers. */
  async #startServers(): Promise<void> {
    const servers = this.#options.servers ?? [];
    for (const phase of startPhases(servers)) {
      const results = await Promise.allSettled(phase.map((s) => s.start(this.#ctx)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) {
        // Stop the ones that did start; stopping a server that never started does nothing.
        this.#force.abort();
        await Promise.allSettled(servers.map((s) => s.stop(this.#force.signal)));
        throw failed.reason;
      }
    }
    this.#endpoints = servers.map((s) => s.endpoint().href.replace(/\/$/, ""));
  }

  async #register(): Promise<ServiceInstance | undefined> {
    const registrar = this.#options.registrar;
    if (registrar === undefined) return undefined;
    const instance = this.instance();
    await registrar.register(this.#timeoutCtx(), instance);
    return instance;
  }

  /**
   * Stops in the reverse order of starting. Every step runs even when an earlier one failed;
   * the first failure is rethrown at the end.
   */
  async #shutdown(registered: ServiceInstance | undefined, hooks: boolean): Promise<void> {
    this.#state = "stopping";
    const errors: unknown[] = [];
    const step = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        this.#log.error({ err: String(err) }, `${this.name}: ${what} failed`);
        errors.push(err);
      }
    };
    if (hooks) await step("before-stop hook", () => this.#runHooks(this.#options.beforeStop));
    const registrar = this.#options.registrar;
    if (registrar !== undefined && registered !== undefined) {
      await step("deregister", () => registrar.deregister(this.#timeoutCtx(), registered));
    }
    await step("stopping the servers", () => this.#stopServers());
    if (hooks) await step("after-stop hook", () => this.#runHooks(this.#options.afterStop));
    this.#log.info(`${this.name} stopped`);
    if (errors.length > 0) throw errors[0];
  }

  /**
   * Stops the event subscribers, then the other servers. Each phase gets the stop timeout to
   * finish in-flight work, then its servers are forced; a server whose stop still does not
   * settle is left behind, so that the stop never hangs and a slow subscriber never takes the
   * grace period of the HTTP and gRPC requests.
   */
  async #stopServers(): Promise<void> {
    const servers = this.#options.servers ?? [];
    const timeout = this.#options.stopTimeout ?? defaults.stopTimeout;
    // Event subscribers first: they finish and ack their messages while the ports still serve
    // what their handlers call.
    const results: PromiseSettledResult<void>[] = [];
    for (const phase of startPhases(servers).reverse()) {
      results.push(...(await this.#stopPhase(phase, timeout)));
    }
    rethrowFirst(results);
  }

  /** Stops `phase` within `timeout` ms, then forces it and waits one more second at most. */
  async #stopPhase(phase: Server[], timeout: number): Promise<PromiseSettledResult<void>[]> {
    const force = new AbortController();
    // An app-wide force (a failed start) applies to every phase.
    if (this.#force.signal.aborted) force.abort();
    const stopped = Promise.allSettled(phase.map((s) => s.stop(force.signal)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const after = (ms: number) =>
      new Promise<"expired">((resolve) => {
        timer = setTimeout(() => {
          resolve("expired");
        }, ms);
      });
    try {
      const first = await Promise.race([stopped, after(timeout)]);
      if (first !== "expired") return first;
      clearTimeout(timer);
      this.#log.warn({ stopTimeout: timeout }, `${this.name}: stop timeout, closing connections`);
      force.abort();
      // Forced servers close their sockets at once; allow them one more short moment to say so.
      const last = await Promise.race([stopped, after(1000)]);
      return last === "expired" ? [] : last;
    } finally {
      clearTimeout(timer);
    }
  }

  async #runHooks(hooks: AppHook[] | undefined): Promise<void> {
    for (const hook of hooks ?? []) await hook(this.#ctx);
  }

  #timeoutCtx(): Context {
    return createContext({
      parent: this.#ctx,
      timeoutMs: this.#options.registrarTimeout ?? defaults.registrarTimeout,
    });
  }

  #listenToSignals(): () => void {
    const signals = this.#options.signals ?? defaults.signals;
    let first = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#state === "stopping") {
        const window = this.#options.signalRepeatWindow ?? defaults.signalRepeatWindow;
        if (performance.now() - first < window) {
          this.#log.debug({ signal }, `${this.name}: already stopping`);
          return;
        }
        this.#log.warn({ signal }, `${this.name}: second signal, exiting now`);
        process.exit(1);
      }
      first = performance.now();
      this.#log.info({ signal }, `${this.name}: stopping`);
      this.#requestStop();
    };
    for (const signal of signals) process.on(signal, onSignal);
    return () => {
      for (const signal of signals) process.off(signal, onSignal);
    };
  }
}

/** The servers in start order: those that take requests, then the `broker` ones (stopped first). */
function startPhases(servers: readonly Server[]): Server[][] {
  const events = servers.filter((s) => s.kind === "broker");
  const others = servers.filter((s) => s.kind !== "broker");
  return [others, events].filter((phase) => phase.length > 0);
}

function rethrowFirst(results: PromiseSettledResult<void>[]): void {
  const failed = results.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}
