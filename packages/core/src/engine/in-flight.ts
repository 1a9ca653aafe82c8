/**
 * What this process has under way that a SIGKILL now would leave to be
 * redone: read by `herald.inFlight()` for a host's gauges (and by the
 * kill -9 tests, which compare a killed process's figure with the
 * duplicates the push service saw).
 */
export interface InFlight {
  /** Queue jobs running (each holds a lease). */
  jobs: number;
  /** Push requests sent and not yet answered: the service may have taken them. */
  requests: number;
  /** Answers received whose outcome is not yet stored. */
  unrecorded: number;
}

/** Counts each send from request to stored outcome; the delivery steps move it, the engine reads it. */
export interface SendGauge {
  requestStarted(): void;
  /** The push service answered (or the request failed): the outcome now waits to be stored. */
  answered(): void;
  /** `count` answered outcomes were stored, or need none (a retry queued, a write that failed). */
  settled(count: number): void;
  read(): Pick<InFlight, 'requests' | 'unrecorded'>;
}

export function sendGauge(): SendGauge {
  let requests = 0;
  let unrecorded = 0;
  return {
    requestStarted: () => {
      requests += 1;
    },
    answered: () => {
      requests -= 1;
      unrecorded += 1;
    },
    settled: (count) => {
      unrecorded -= count;
    },
    read: () => ({ requests, unrecorded }),
  };
}
