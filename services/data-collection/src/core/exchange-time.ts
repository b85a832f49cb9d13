// The exchange's clock without a request per call (issue #4 audit: EnsureData and CheckFreshness
// used the host's clock; a host running ahead saw slots as missing and synced on every call).
import type { Clock } from "./clock";
import type { ExchangeClient } from "./exchange-client";

/** How often the offset between the host's and an exchange's clock is measured again. */
export const DEFAULT_EXCHANGE_TIME_REFRESH_MS = 60_000;

export interface ExchangeTimeOptions {
  /** The host's clock. */
  clock: Clock;
  /** Default DEFAULT_EXCHANGE_TIME_REFRESH_MS. */
  refreshMs?: number;
}

export interface ExchangeTime {
  /**
   * Now on `client`'s exchange: the host's clock plus the offset measured with
   * `client.serverTimeMs()`, measured again at most once per refresh interval. When the exchange
   * cannot be reached the last measured offset answers; with none, the error is thrown — or, with
   * `hostClockFallback`, the host's clock answers (and the exchange is not asked again before the
   * interval has passed).
   */
  nowMs(client: ExchangeClient, options?: { hostClockFallback?: boolean }): Promise<number>;
}

interface Offset {
  offsetMs: number;
  /** Host time of the last attempt. */
  attemptedAtMs: number;
  /** False when the last attempt failed and no offset was ever measured. */
  measured: boolean;
}

export function createExchangeTime(options: ExchangeTimeOptions): ExchangeTime {
  const { clock } = options;
  const refreshMs = options.refreshMs ?? DEFAULT_EXCHANGE_TIME_REFRESH_MS;
  const offsets = new Map<string, Offset>();
  // One measurement per exchange at a time: concurrent callers share it.
  const measuring = new Map<string, Promise<Offset>>();

  function measure(client: ExchangeClient): Promise<Offset> {
    const running = measuring.get(client.exchange);
    if (running !== undefined) return running;
    const previous = offsets.get(client.exchange);
    const promise = (async (): Promise<Offset> => {
      const before = clock.nowMs();
      try {
        const serverMs = await client.serverTimeMs();
        const after = clock.nowMs();
        // The server read its clock somewhere during the round trip: take the middle.
        const offset = { offsetMs: serverMs - (before + after) / 2, attemptedAtMs: after, measured: true };
        offsets.set(client.exchange, offset);
        return offset;
      } catch (error) {
        if (previous?.measured !== true) throw error;
        // A stale offset beats none: clocks drift by milliseconds a day.
        const offset = { ...previous, attemptedAtMs: clock.nowMs() };
        offsets.set(client.exchange, offset);
        return offset;
      }
    })().finally(() => measuring.delete(client.exchange));
    measuring.set(client.exchange, promise);
    return promise;
  }

  return {
    async nowMs(client, callOptions = {}) {
      const cached = offsets.get(client.exchange);
      const due = cached === undefined || clock.nowMs() - cached.attemptedAtMs >= refreshMs;
      if (cached !== undefined && !due && (cached.measured || callOptions.hostClockFallback === true))
        return Math.round(clock.nowMs() + cached.offsetMs);
      try {
        const offset = await measure(client);
        return Math.round(clock.nowMs() + offset.offsetMs);
      } catch (error) {
        if (callOptions.hostClockFallback !== true) throw error;
        // measure() only throws when no offset was ever measured.
        offsets.set(client.exchange, { offsetMs: 0, attemptedAtMs: clock.nowMs(), measured: false });
        return clock.nowMs();
      }
    },
  };
}
