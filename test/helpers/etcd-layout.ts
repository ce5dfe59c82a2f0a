// A layout service whose config merges an etcd key (`config_source.etcd`), for tests that change
// its config live through etcd: a real etcd, the service, and a writer of the key.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { startEtcd } from "./etcd.js";
import { tempDir } from "./repo.js";
import { startService, writeLayoutConfig } from "./service.js";
import type { ServiceProcess } from "./service.js";

/** What {@link withEtcdSourcedLayout} hands its body. */
export interface EtcdSourcedLayout {
  readonly service: ServiceProcess & { http: URL; grpc: URL };
  /** The etcd key the service merges: `/configs/helloworld.yaml`. */
  readonly key: string;
  /** Puts `lines` (YAML) under the key; no lines deletes it. */
  readonly write: (lines: string[]) => Promise<void>;
}

/**
 * Starts etcd and a layout service reading `/configs/helloworld.yaml` from it, runs `body`, then
 * checks the service stops cleanly on SIGTERM; everything is torn down whatever happens.
 */
export async function withEtcdSourcedLayout(
  name: string,
  body: (layout: EtcdSourcedLayout) => Promise<void>,
): Promise<void> {
  const etcd = await startEtcd();
  const writer = new Etcd3({ hosts: etcd.endpoint });
  const dir = tempDir(`kratos-ts-${name}-`);
  const key = "/configs/helloworld.yaml";
  let service: (ServiceProcess & { http: URL; grpc: URL }) | undefined;
  try {
    writeLayoutConfig(dir.path, {
      extra: ["config_source:", `  etcd: { endpoints: [${etcd.endpoint}], key: ${key} }`],
    });
    service = await startService(["-conf", "./configs"], dir.path);
    await body({
      service,
      key,
      write: async (lines) => {
        if (lines.length === 0) await writer.delete().key(key);
        else await writer.put(key).value(`${lines.join("\n")}\n`);
      },
    });
    service.child.kill("SIGTERM");
    assert.equal(await service.exited, 0);
  } finally {
    if (service !== undefined && service.child.exitCode === null) service.child.kill("SIGKILL");
    writer.close();
    dir.remove();
    await etcd.stop();
  }
}
