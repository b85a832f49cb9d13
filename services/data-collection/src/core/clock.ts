/** Time source, injected so tests control "now" (no clock reads in core logic). */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
