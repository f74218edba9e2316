import type { AthenaCalculationFacts, AthenaSessionFacts } from '../../model/types.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Logger } from '../../util/logger.js';
import { perKey, SlidingWindowLimiter } from '../../util/rate-limiter.js';
import { isRetryableAwsError, withRetry } from '../../util/retry.js';

export type AthenaResult<T> = { status: 'ok'; facts: T } | { status: 'not-found' | 'denied' | 'error'; message: string };

/** The Athena reads enrichment needs. */
export interface AthenaSource {
  getSession(region: string, sessionId: string, signal?: AbortSignal): Promise<AthenaResult<AthenaSessionFacts>>;
  getCalculation(region: string, calculationId: string, signal?: AbortSignal): Promise<AthenaResult<AthenaCalculationFacts>>;
}

const ms = (d: Date | undefined) => (d ? d.getTime() : undefined);

function classify(err: unknown): 'not-found' | 'denied' | 'error' {
  const name = (err as { name?: string })?.name ?? '';
  // SPEC §1: Athena answers an id it does not know with either of these.
  if (name === 'ResourceNotFoundException' || name === 'InvalidRequestException') return 'not-found';
  if (name === 'AccessDeniedException' || name === 'UnauthorizedOperation' || name === 'AccessDenied') return 'denied';
  return 'error';
}

export interface AthenaSourceOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Requests per second per region for enrichment reads. */
  ratePerSecond?: number;
  quick?: boolean;
}

/** GetSession / GetCalculationExecution through the SDK, rate-limited and retried. */
export function createAthenaSource(o: AthenaSourceOptions): AthenaSource {
  const limiter = perKey(() => new SlidingWindowLimiter(o.ratePerSecond ?? 5, 1000));
  // The SDK loads on first use: commands that never reach AWS start faster.
  let sdk: Promise<typeof import('@aws-sdk/client-athena')> | undefined;
  const loadSdk = () => (sdk ??= import('@aws-sdk/client-athena'));
  const client = perKey((region) =>
    loadSdk().then(
      ({ AthenaClient }) =>
        new AthenaClient({
          region,
          maxAttempts: 1,
          requestHandler: { connectionTimeout: o.quick ? 1500 : 5000, requestTimeout: o.quick ? 4000 : 20_000 },
        }),
    ),
  );
  async function call<T>(region: string, operation: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<AthenaResult<T>> {
    try {
      const facts = await withRetry(
        () => limiter(region).run(fn),
        { attempts: o.quick ? 1 : 4, baseMs: 300, maxMs: 5000, retryable: isRetryableAwsError, signal },
      );
      o.metrics?.athenaCalls.inc({ operation, outcome: 'ok' });
      return { status: 'ok', facts };
    } catch (err) {
      const status = classify(err);
      o.metrics?.athenaCalls.inc({ operation, outcome: status });
      return { status, message: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
    }
  }
  return {
    getSession: (region, sessionId, signal) =>
      call(
        region,
        'GetSession',
        async () => {
          const { GetSessionCommand } = await loadSdk();
          const out = await (await client(region)).send(new GetSessionCommand({ SessionId: sessionId }), { abortSignal: signal });
          const facts: AthenaSessionFacts = { state: out.Status?.State ?? 'IDLE' };
          const set = <K extends keyof AthenaSessionFacts>(k: K, v: AthenaSessionFacts[K] | undefined) => {
            if (v !== undefined && v !== null) facts[k] = v;
          };
          set('startedAt', ms(out.Status?.StartDateTime));
          set('endedAt', ms(out.Status?.EndDateTime));
          set('idleSince', ms(out.Status?.IdleSinceDateTime));
          set('dpuExecutionMillis', out.Statistics?.DpuExecutionInMillis);
          set('engineVersion', out.EngineVersion);
          set('maxConcurrentDpus', out.EngineConfiguration?.MaxConcurrentDpus);
          if (out.SessionConfiguration?.IdleTimeoutSeconds != null) facts.idleTimeoutMinutes = out.SessionConfiguration.IdleTimeoutSeconds / 60;
          return facts;
        },
        signal,
      ),
    getCalculation: (region, calculationId, signal) =>
      call(
        region,
        'GetCalculationExecution',
        async () => {
          const { GetCalculationExecutionCommand } = await loadSdk();
          const out = await (await client(region)).send(new GetCalculationExecutionCommand({ CalculationExecutionId: calculationId }), { abortSignal: signal });
          const facts: AthenaCalculationFacts = { state: out.Status?.State ?? 'CREATING' };
          if (out.SessionId) facts.sessionId = out.SessionId.toLowerCase();
          const sub = ms(out.Status?.SubmissionDateTime);
          const done = ms(out.Status?.CompletionDateTime);
          if (sub !== undefined) facts.submittedAt = sub;
          if (done !== undefined) facts.completedAt = done;
          if (out.Statistics?.DpuExecutionInMillis != null) facts.dpuExecutionMillis = out.Statistics.DpuExecutionInMillis;
          return facts;
        },
        signal,
      ),
  };
}
