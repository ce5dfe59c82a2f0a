import { ExportResultCode } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";

/**
 * A span exporter whose real exporter is loaded on construction, in the background: services
 * that export nothing never load the OTLP exporter's code (~6 MiB of RSS). Spans handed over
 * before it is ready wait for it; a failed load fails their export.
 */
export class LazySpanExporter implements SpanExporter {
  readonly #exporter: Promise<SpanExporter>;

  constructor(load: () => Promise<SpanExporter>) {
    this.#exporter = load();
    // The failure is reported by the export that needs the exporter, not as an unhandled rejection.
    void this.#exporter.catch(() => undefined);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    void this.#exporter.then(
      (exporter) => {
        exporter.export(spans, done);
      },
      (err: unknown) => {
        done({
          code: ExportResultCode.FAILED,
          error: err instanceof Error ? err : new Error(String(err)),
        });
      },
    );
  }

  async shutdown(): Promise<void> {
    const exporter = await this.#exporter.catch(() => undefined);
    await exporter?.shutdown();
  }

  async forceFlush(): Promise<void> {
    const exporter = await this.#exporter.catch(() => undefined);
    await exporter?.forceFlush?.();
  }
}
