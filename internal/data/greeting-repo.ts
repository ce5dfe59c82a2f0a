import type { StatementSync } from "node:sqlite";
import type { Greeting, GreetingRepo } from "../biz/greeting.js";
import type { Data } from "./data.js";

interface GreetingRow {
  id: bigint;
  name: string;
  message: string;
  create_time: bigint;
}

/** {@link GreetingRepo} on the SQLite database; statements are prepared once. */
export class SqliteGreetingRepo implements GreetingRepo {
  readonly #data: Data;
  readonly #insert: StatementSync;
  readonly #select: StatementSync;

  constructor(data: Data) {
    this.#data = data;
    this.#insert = data.db.prepare(
      "INSERT INTO greetings (name, message, create_time) VALUES (?, ?, ?) RETURNING id",
    );
    this.#select = data.db.prepare(
      "SELECT id, name, message, create_time FROM greetings WHERE id = ?",
    );
    // ids are int64 in the API: read them as bigint so large ones stay exact.
    this.#insert.setReadBigInts(true);
    this.#select.setReadBigInts(true);
  }

  async save(greeting: Omit<Greeting, "id">): Promise<Greeting> {
    const row = await this.#data.write(
      () =>
        this.#insert.get(greeting.name, greeting.message, greeting.createTime.getTime()) as {
          id: bigint;
        },
    );
    return { ...greeting, id: row.id };
  }

  findById(id: bigint): Promise<Greeting | undefined> {
    const row = this.#select.get(id) as GreetingRow | undefined;
    if (row === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      id: row.id,
      name: row.name,
      message: row.message,
      createTime: new Date(Number(row.create_time)),
    });
  }
}
