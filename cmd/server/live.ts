// The settings the service follows live besides `governance` and `log.level`: `auth` (JWT and
// authorisation rules) and `server.bbr.enabled`. Each is checked whole: at start a bad value
// fails the start with one line naming the file and key; later a bad change is refused with
// one warning naming them, and the last good settings stay.
import { ConfigError, followLive } from "kratos-ts/config";
import type { Config, Value } from "kratos-ts/config";
import type { Logger } from "kratos-ts/log";
import { followAuth } from "kratos-ts/middleware";
import type { LiveSettings } from "../../internal/conf/tokens.js";

/** The live settings, and how to stop following them. */
export interface FollowedSettings extends LiveSettings {
  close(): void;
}

/** Follows `auth` and `server.bbr.enabled`; throws a ConfigError (file and key) when either is bad now. */
export function followSettings(config: Config, logger: Logger): FollowedSettings {
  const auth = followAuth(config, { logger: logger.child({ module: "auth" }) });
  let bbr;
  try {
    bbr = followLive(config, "server.bbr.enabled", bbrEnabled, {
      logger: logger.child({ module: "config" }),
    });
  } catch (err) {
    auth.close();
    throw err;
  }
  return {
    auth,
    bbr,
    close() {
      auth.close();
      bbr.close();
    },
  };
}

// Unset means off: shedding is a choice, made once the service's load is known.
function bbrEnabled(value: Value): boolean {
  const raw = value.raw();
  if (raw === undefined || raw === null || raw === "") return false;
  if (typeof raw !== "boolean" && raw !== "true" && raw !== "false")
    throw new ConfigError(`expected true or false, got ${JSON.stringify(raw)}`, {
      file: value.origin,
      key: value.path,
    });
  return value.bool();
}
