/**
 * Waits for a stopping server's `closed` promise; when `signal` aborts (or already has), calls
 * `force` to close what is left. The graceful stop of both servers: the calls in flight finish
 * unless the caller's stop deadline runs out first.
 */
export async function untilClosed(
  closed: Promise<void>,
  signal: AbortSignal | undefined,
  force: () => void,
): Promise<void> {
  if (signal?.aborted === true) force();
  signal?.addEventListener("abort", force, { once: true });
  try {
    await closed;
  } finally {
    signal?.removeEventListener("abort", force);
  }
}
