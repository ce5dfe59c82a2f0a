// The greeting domain: the entity, the repository the data layer implements, and the use case
// the service layer calls. Nothing here knows about protobuf, HTTP or SQL.
import { inject, injectable } from "inversify";
import type { ServiceIdentifier } from "inversify";
import type { Context } from "kratos-ts/context";
import type { Logger } from "kratos-ts/log";
import { errorGreetingNotFound } from "../../api/helloworld/v1/error_reason_errors.js";
import { LoggerToken } from "../conf/tokens.js";

/** A stored greeting. */
export interface Greeting {
  id: bigint;
  name: string;
  message: string;
  createTime: Date;
}

/** Stores greetings; implemented by the data layer. */
export interface GreetingRepo {
  /** Stores a new greeting and returns it with its id. */
  save(greeting: Omit<Greeting, "id">): Promise<Greeting>;
  /** The greeting with `id`, or undefined. */
  findById(id: bigint): Promise<Greeting | undefined>;
}

/** The injection token of {@link GreetingRepo}. */
export const GreetingRepoToken: ServiceIdentifier<GreetingRepo> = Symbol.for("biz.GreetingRepo");

/** What happened to greetings, told to whoever listens; implemented by the data layer. */
export interface GreetingEvents {
  /** False when no broker is configured: there is nobody to tell. */
  readonly enabled: boolean;
  /** Someone was greeted (SayHello). Resolves once the broker has the event. */
  greeted(ctx: Context, greeting: Omit<Greeting, "id">): Promise<void>;
}

/** The injection token of {@link GreetingEvents}. */
export const GreetingEventsToken: ServiceIdentifier<GreetingEvents> =
  Symbol.for("biz.GreetingEvents");

/** The greeter's use cases. */
@injectable()
export class GreeterUsecase {
  readonly #repo: GreetingRepo;
  readonly #events: GreetingEvents;
  readonly #log: Logger;

  constructor(
    @inject(GreetingRepoToken) repo: GreetingRepo,
    @inject(GreetingEventsToken) events: GreetingEvents,
    @inject(LoggerToken) log: Logger,
  ) {
    this.#repo = repo;
    this.#events = events;
    this.#log = log.child({ module: "biz/greeter" });
  }

  /** The greeting for `name`; pure, so SayHello can answer a GET without touching storage. */
  greet(name: string): string {
    return `Hello ${name}`;
  }

  /**
   * The greeting for `name`, told as an event when events are on (a failed publish fails the
   * call: 503 `BROKER_UNAVAILABLE`).
   */
  async sayHello(ctx: Context, name: string): Promise<string> {
    const message = this.greet(name);
    if (this.#events.enabled)
      await this.#events.greeted(ctx, { name, message, createTime: new Date() });
    return message;
  }

  /** Greets `name` and stores the greeting. */
  async createGreeting(name: string): Promise<Greeting> {
    const greeting = await this.#repo.save({
      name,
      message: this.greet(name),
      createTime: new Date(),
    });
    this.#log.debug({ id: String(greeting.id) }, "greeting stored");
    return greeting;
  }

  /** The greeting with `id`; the generated GREETING_NOT_FOUND error (404) when there is none. */
  async getGreeting(id: bigint): Promise<Greeting> {
    const greeting = await this.#repo.findById(id);
    if (greeting === undefined) throw errorGreetingNotFound(`no greeting with id ${id}`);
    return greeting;
  }
}
