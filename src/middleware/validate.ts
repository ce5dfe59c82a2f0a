import { isMessage } from "@bufbuild/protobuf";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Validator } from "@bufbuild/protovalidate";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { requestSchema } from "../transport/transport.js";
import type { Context } from "../context.js";
import type { Handler, Middleware } from "./middleware.js";

/** Options of {@link validate}. */
export interface ValidateOptions {
  /** The protovalidate validator (for custom predefined rules or a RE2 engine). Default: one created here. */
  validator?: Validator;
}

/**
 * Checks every request message against its `buf.validate` rules with protovalidate, on every
 * transport. A violation answers 400 reason `VALIDATOR`: the message lists each field path and
 * rule message, and the metadata maps field paths to messages, so clients can point at fields.
 * Requests without a message type (plain handlers, client streams) pass unchecked.
 *
 * Without `options.validator`, protovalidate (with its CEL and RE2 engines, ~90 ms of module
 * loading) is loaded by the first call that has a message to check, not at start: a service
 * opens its ports sooner, and its first checked call waits for the load.
 */
export function validate(options: ValidateOptions = {}): Middleware {
  let validator = options.validator;
  let loading: Promise<Validator> | undefined;
  const load = (): Promise<Validator> =>
    (loading ??= import("@bufbuild/protovalidate").then(
      ({ createValidator }) => {
        validator = createValidator();
        return validator;
      },
      (err: unknown) => {
        // A broken install: this call fails as a server error; the next one tries again.
        loading = undefined;
        throw new KratosError(500, reasons.validator, "protovalidate could not be loaded", {
          cause: err,
        });
      },
    ));
  return (next) =>
    function validate(ctx, req) {
      const schema = requestSchema(ctx);
      if (schema === undefined || !isMessage(req, schema)) return next(ctx, req);
      if (validator === undefined) {
        return load().then((loaded) => check(loaded, schema, req, ctx, next));
      }
      return check(validator, schema, req, ctx, next);
    };
}

/** Validates `req`; calls `next` when it keeps its rules, else rejects with the violations. */
function check(
  validator: Validator,
  schema: DescMessage,
  req: Message,
  ctx: Context,
  next: Handler,
): Promise<unknown> {
  const result = validator.validate(schema, req);
  if (result.kind === "invalid") {
    const metadata: Record<string, string> = {};
    const parts: string[] = [];
    for (const violation of result.violations) {
      const field = pathToString(violation.field);
      const key = field === "" ? "message" : field;
      metadata[key] =
        metadata[key] === undefined ? violation.message : `${metadata[key]}; ${violation.message}`;
      parts.push(`${key}: ${violation.message}`);
    }
    return Promise.reject(
      new KratosError(400, reasons.validator, `invalid ${schema.name}: ${parts.join("; ")}`, {
        metadata,
        cause: result.error,
      }),
    );
  }
  if (result.kind === "error") {
    // The rules themselves cannot run (a bad CEL expression): a server bug, not bad input.
    return Promise.reject(
      new KratosError(500, reasons.validator, `validation rules failed: ${result.error.message}`, {
        cause: result.error,
      }),
    );
  }
  return next(ctx, req);
}
