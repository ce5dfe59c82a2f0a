// Auth that follows a config: the compiled `auth` settings behind one reference, and a
// middleware that reads it per call, so an edit of `auth` (file or etcd) applies to the next
// calls while the calls in flight finish under the settings they started with.
import type { Config } from "../config/config.js";
import { followLive } from "../config/live.js";
import type { FollowedLive, Live } from "../config/live.js";
import type { Logger } from "../log/logger.js";
import { compileAuth } from "./auth-config.js";
import type { AuthSettings } from "./auth-config.js";
import type { Handler, Middleware } from "./middleware.js";

/**
 * The middleware of the current auth settings. The chain below is built once per settings
 * object, so a call costs one property read and one comparison more than fixed auth.
 */
export function liveAuth(settings: Live<AuthSettings>): Middleware {
  return (next) => {
    let built: { settings: AuthSettings; handler: Handler } | undefined;
    return function auth(ctx, req) {
      const current = settings.current;
      if (built?.settings !== current)
        built = { settings: current, handler: current.middleware(next) };
      return built.handler(ctx, req);
    };
  };
}

/** Options of {@link followAuth}. */
export interface FollowAuthOptions {
  /** The dotted key of the section. Default `auth`. */
  path?: string;
  /** Where applied and refused changes, and an unreachable JWKS, are reported. Default: nowhere. */
  logger?: Logger;
  /** Fetches the JWKS URL to probe it. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Auth settings from `config` (`auth` by default), followed live: a bad section throws a
 * `ConfigError` naming the file and key (fail the start on it); a bad change later is refused
 * with one warning and the last good settings stay. Each applied JWKS URL is fetched once in
 * the background, bounded by `jwks_timeout`: when it cannot be reached, one warning says so,
 * and calls that need it answer 401 (jose retries on later calls) instead of hanging.
 */
export function followAuth(
  config: Config,
  options: FollowAuthOptions = {},
): FollowedLive<AuthSettings> {
  const path = options.path ?? "auth";
  const origin = (key: string) => config.value(key).origin;
  const log = options.logger;
  const probe = (settings: AuthSettings) => {
    if (settings.jwksUrl !== undefined && log !== undefined)
      void probeJwks(settings, log, `${path}.jwt.jwks_url`, origin, options.fetch ?? fetch);
    return settings;
  };
  return followLive(config, path, (value) => probe(compileAuth(value.raw(), { path, origin })), {
    ...(log === undefined ? {} : { logger: log }),
  });
}

async function probeJwks(
  settings: AuthSettings,
  log: Logger,
  key: string,
  origin: (key: string) => string | undefined,
  fetchImpl: typeof fetch,
): Promise<void> {
  const url = settings.jwksUrl;
  if (url === undefined) return;
  let problem: string;
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(settings.jwksTimeout) });
    await res.body?.cancel();
    if (res.ok) return;
    problem = `HTTP ${res.status}`;
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
    problem = cause ?? (err instanceof Error ? err.message : String(err));
  }
  const file = origin(key);
  log.warn(
    { key, file, url: url.href },
    `${file === undefined ? "" : `${file}: `}${key}: cannot fetch ${url.href} (${problem}); calls that need a token answer 401 until it can be`,
  );
}
