export interface RegionHealth {
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  failingSince: number | null;
  lastError: string | null;
}

/**
 * Per-region polling health for /healthz (SPEC §5). Fed by every LookupEvents attempt, not
 * only by whole cycles, so an endpoint that is down shows as failing while the cycle is
 * still retrying. Throttling is not a failure: the poller is working, just slowly.
 */
export class PollHealth {
  readonly regions = new Map<string, RegionHealth>();

  constructor(
    regions: readonly string[],
    private readonly now: () => number = () => Date.now(),
  ) {
    for (const r of regions) this.regions.set(r, { lastSuccessAt: null, lastFailureAt: null, failingSince: null, lastError: null });
  }

  private get(region: string): RegionHealth {
    let h = this.regions.get(region);
    if (!h) this.regions.set(region, (h = { lastSuccessAt: null, lastFailureAt: null, failingSince: null, lastError: null }));
    return h;
  }

  success(region: string): void {
    Object.assign(this.get(region), { lastSuccessAt: this.now(), failingSince: null, lastError: null });
  }

  failure(region: string, error: string): void {
    const h = this.get(region);
    const now = this.now();
    Object.assign(h, { lastFailureAt: now, failingSince: h.failingSince ?? now, lastError: error.slice(0, 300) });
  }

  /** False once any region has been failing for longer than `limitMs`. */
  healthy(limitMs: number): boolean {
    const now = this.now();
    for (const h of this.regions.values()) if (h.failingSince !== null && now - h.failingSince > limitMs) return false;
    return true;
  }
}
