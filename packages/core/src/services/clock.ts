/** Wall time as the trainer and pipeline read it: a service, so a test can make durations exact. */
export interface Clock {
  /** Milliseconds since the epoch (Date.now()). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
