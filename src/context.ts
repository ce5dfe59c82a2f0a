/**
 * The request context: cancellation, deadline and typed values, passed explicitly to every
 * handler and middleware (kratos-ts has no ambient context, like Go's `context.Context`).
 *
 * @module
 */

/** A typed key for a value carried by a {@link Context}. */
export interface ContextKey<T> {
  readonly id: symbol;
  readonly defaultValue: T;
  readonly description: string;
}

/** Creates a key; `get` returns `defaultValue` until a value is set. */
export function createContextKey<T>(defaultValue: T, description = "context value"): ContextKey<T> {
  return { id: Symbol(description), defaultValue, description };
}

/** Typed values of a context. Lookups fall back to the parent context's values. */
export interface ContextValues {
  get<T>(key: ContextKey<T>): T;
  set<T>(key: ContextKey<T>, value: T): this;
  has(key: ContextKey<unknown>): boolean;
  delete(key: ContextKey<unknown>): this;
}

class Values implements ContextValues {
  // A call carries a few values (the transport, the request schema, the transport's call state,
  // maybe metadata): inline slots avoid allocating a Map per request; more values spill into one.
  #k0: symbol | undefined;
  #v0: unknown;
  #k1: symbol | undefined;
  #v1: unknown;
  #k2: symbol | undefined;
  #v2: unknown;
  #k3: symbol | undefined;
  #v3: unknown;
  #more: Map<symbol, unknown> | undefined;

  constructor(readonly parent: ContextValues | undefined) {}

  get<T>(key: ContextKey<T>): T {
    const id = key.id;
    if (this.#k0 === id) return this.#v0 as T;
    if (this.#k1 === id) return this.#v1 as T;
    if (this.#k2 === id) return this.#v2 as T;
    if (this.#k3 === id) return this.#v3 as T;
    if (this.#more?.has(id) === true) return this.#more.get(id) as T;
    return this.parent === undefined ? key.defaultValue : this.parent.get(key);
  }

  set<T>(key: ContextKey<T>, value: T): this {
    const id = key.id;
    if (this.#k0 === id) this.#v0 = value;
    else if (this.#k1 === id) this.#v1 = value;
    else if (this.#k2 === id) this.#v2 = value;
    else if (this.#k3 === id) this.#v3 = value;
    else if (this.#more?.has(id) === true) this.#more.set(id, value);
    else if (this.#k0 === undefined) {
      this.#k0 = id;
      this.#v0 = value;
    } else if (this.#k1 === undefined) {
      this.#k1 = id;
      this.#v1 = value;
    } else if (this.#k2 === undefined) {
      this.#k2 = id;
      this.#v2 = value;
    } else if (this.#k3 === undefined) {
      this.#k3 = id;
      this.#v3 = value;
    } else (this.#more ??= new Map()).set(id, value);
    return this;
  }

  has(key: ContextKey<unknown>): boolean {
    const id = key.id;
    return (
      this.#k0 === id ||
      this.#k1 === id ||
      this.#k2 === id ||
      this.#k3 === id ||
      this.#more?.has(id) === true ||
      this.parent?.has(key) === true
    );
  }

  delete(key: ContextKey<unknown>): this {
    const id = key.id;
    if (this.#k0 === id) {
      this.#k0 = undefined;
      this.#v0 = undefined;
    } else if (this.#k1 === id) {
      this.#k1 = undefined;
      this.#v1 = undefined;
    } else if (this.#k2 === id) {
      this.#k2 = undefined;
      this.#v2 = undefined;
    } else if (this.#k3 === id) {
      this.#k3 = undefined;
      this.#v3 = undefined;
    } else this.#more?.delete(id);
    return this;
  }
}

/** Creates values, optionally falling back to a parent's. */
export function createContextValues(parent?: ContextValues): ContextValues {
  return new Values(parent);
}

/** What a handler or middleware knows about the call it serves or makes. */
export interface Context {
  /** Aborted when the deadline passes, the peer goes away or the server stops. */
  readonly signal: AbortSignal;
  /** The deadline in milliseconds since the epoch, or undefined when there is none. */
  readonly deadline: number | undefined;
  /** Typed values: the transport, metadata, app info, and whatever middleware adds. */
  readonly values: ContextValues;
}

/** Options of {@link createContext}. */
export interface ContextInit {
  /** Values and deadline are inherited from it, and its cancellation propagates. */
  parent?: Context | undefined;
  /**
   * Values to fall back on when there is no `parent`: a server's base values (the app info),
   * inherited without the base context's cancellation.
   */
  values?: ContextValues | undefined;
  /** Milliseconds from now until the deadline; the earlier of this and the parent's wins. */
  timeoutMs?: number | undefined;
  /** An extra signal whose abort aborts this context. */
  signal?: AbortSignal | undefined;
  /**
   * Called once, when someone first reads `signal`: a transport hooks the peer's disconnect
   * there, so calls whose handlers never look at the signal pay for no listener.
   */
  onSignal?: ((ctx: CancellableContext) => void) | undefined;
}

/**
 * A context its owner can abort (a transport, when the peer goes away). The AbortController and
 * the deadline timer are only created when someone reads `signal`: the hot path of a request
 * that nobody cancels allocates neither.
 */
export class CancellableContext implements Context {
  readonly deadline: number | undefined;
  readonly values: ContextValues;
  readonly #parent: Context | undefined;
  readonly #extra: AbortSignal | undefined;
  #onSignal: ((ctx: CancellableContext) => void) | undefined;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // Listeners on longer-lived signals (a parent's, the server's); removed on dispose. Created
  // with the first listener: most calls never read `signal`.
  #unlisten: (() => void)[] | undefined;

  constructor(init: ContextInit = {}) {
    const parent = init.parent;
    this.#parent = parent;
    this.#extra = init.signal;
    this.#onSignal = init.onSignal;
    this.values = createContextValues(parent?.values ?? init.values);
    const own = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
    const inherited = parent?.deadline;
    this.deadline =
      own === undefined ? inherited : inherited === undefined ? own : Math.min(own, inherited);
  }

  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const onSignal = this.#onSignal;
    this.#onSignal = undefined;
    onSignal?.(this);
    if (this.#aborted) {
      if (!controller.signal.aborted) controller.abort(this.#reason);
      return controller.signal;
    }
    const onAbort = (reason: unknown) => {
      this.abort(reason);
    };
    for (const signal of [this.#parent?.signal, this.#extra]) {
      if (signal === undefined) continue;
      if (signal.aborted) {
        onAbort(signal.reason);
        continue;
      }
      const listener = () => {
        onAbort(signal.reason);
      };
      signal.addEventListener("abort", listener, { once: true });
      (this.#unlisten ??= []).push(() => {
        signal.removeEventListener("abort", listener);
      });
    }
    if (this.deadline !== undefined && !controller.signal.aborted) {
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) onAbort(deadlineExceeded());
      else {
        this.#timer = setTimeout(() => {
          onAbort(deadlineExceeded());
        }, remaining);
        unref(this.#timer);
      }
    }
    return controller.signal;
  }

  /** True once aborted (also when nobody has read `signal` yet). */
  get aborted(): boolean {
    return this.#aborted || this.#controller?.signal.aborted === true || this.#expired();
  }

  /** Aborts the context with `reason` (default: an AbortError). Later calls do nothing. */
  abort(reason: unknown = new DOMException("the operation was aborted", "AbortError")): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.dispose();
    this.#controller?.abort(reason);
  }

  /** Releases the deadline timer and the listeners on other signals; call it when the call is over. */
  dispose(): void {
    this.#clearTimer();
    const unlisten = this.#unlisten;
    if (unlisten === undefined) return;
    this.#unlisten = undefined;
    for (const fn of unlisten) fn();
  }

  #expired(): boolean {
    return this.deadline !== undefined && Date.now() >= this.deadline;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Lets the process exit while a deadline timer is pending. Node's timers have `unref`; browsers
 * return a number, and this module runs there too (the fetch HTTP client uses it).
 */
function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  }
}

/** The abort reason of a context whose deadline passed: a `TimeoutError` (504 as an error). */
export function deadlineExceeded(): DOMException {
  return new DOMException("deadline exceeded", "TimeoutError");
}

/** Creates a context; see {@link ContextInit}. */
export function createContext(init?: ContextInit): CancellableContext {
  return new CancellableContext(init);
}
