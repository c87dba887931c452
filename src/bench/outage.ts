// Time to recovery after a fault: an open-loop probe (one start every intervalMs, whatever the
// previous probe is doing) sees the app go down, then the first good answer started after that.
// Bounded in time (timeoutMs) and so in count (timeoutMs / intervalMs probes).

export interface Recovery {
  /** Epoch ms: completion of the first failed probe. */
  downAt: number;
  /** Epoch ms: completion of the first good probe started at or after the first failed one. */
  upAt: number;
  probes: number;
}

export function firstAnswerAfterOutage(
  probe: () => Promise<boolean>,
  { intervalMs = 100, timeoutMs = 120_000, now = Date.now, signal }: { intervalMs?: number; timeoutMs?: number; now?: () => number; signal?: AbortSignal } = {},
): Promise<Recovery> {
  return new Promise((resolve, reject) => {
    const deadline = now() + timeoutMs;
    let firstFailStart: number | undefined;
    let downAt: number | undefined;
    let probes = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      fn();
    };
    const tick = () => {
      if (done) return;
      if (now() > deadline) {
        finish(() => reject(new Error(downAt === undefined
          ? `the app never stopped answering within ${timeoutMs} ms (${probes} probes): the fault did not take effect`
          : `no good answer within ${timeoutMs} ms after the outage began (${probes} probes)`)));
        return;
      }
      const started = now();
      probes++;
      probe().catch(() => false).then((ok) => {
        if (done) return;
        const at = now();
        if (!ok) {
          if (firstFailStart === undefined || started < firstFailStart) firstFailStart = started;
          downAt = downAt === undefined ? at : Math.min(downAt, at);
        } else if (firstFailStart !== undefined && started >= firstFailStart) {
          finish(() => resolve({ downAt: downAt!, upAt: at, probes }));
        }
      });
    };
    const timer = setInterval(tick, intervalMs);
    // Aborted (the fault itself failed): stop probing at once.
    signal?.addEventListener('abort', () => finish(() => reject(new Error('probing aborted'))), { once: true });
    if (signal?.aborted) finish(() => reject(new Error('probing aborted')));
    else tick();
  });
}
