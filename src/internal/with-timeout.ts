/**
 * `promise`, or a rejection with `message` once `ms` pass first: for clients that retry or wait
 * far longer than a caller can (etcd3 on an unreachable etcd, a Redis command under a limit).
 * The work itself is not cancelled; a non-Error rejection becomes an Error.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(message));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
