import type { LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { Logger } from '../../util/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { perKey, SlidingWindowLimiter } from '../../util/rate-limiter.js';
import { isExpiredCredentials, isRetryableAwsError, isThrottle, withRetry } from '../../util/retry.js';
import type { Accounts } from '../accounts/accounts.js';
import { targetClients } from '../accounts/target-clients.js';
import { DEFAULT_ACCOUNT, targetKey } from '../accounts/targets.js';
import { awsClientConfig } from '../aws-client-config.js';

export interface LookupQuery {
  /** The watched account whose trail is read (its role's credentials); default: the default credentials' account. */
  account?: string;
  region: string;
  attribute?: { key: 'EventName' | 'EventSource' | 'Username' | 'ResourceName'; value: string };
  startMs: number;
  endMs: number;
  nextToken?: string;
}

export interface LookupPage {
  /** LookupEvents items as the SDK returns them (CloudTrailEvent is the record as a JSON string). */
  events: unknown[];
  nextToken?: string;
}

/** The one thing the poller needs from CloudTrail; tests and benchmarks use the real one against a fake server. */
export interface CloudTrailSource {
  lookup(q: LookupQuery, signal?: AbortSignal): Promise<LookupPage>;
}

export interface LookupClientOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Requests per second per account and region (CloudTrail: 2, not adjustable). Limits run on real time, never a test clock. */
  ratePerSecond?: number;
  /** The watched accounts' credentials (AWS_ROLE_ARNS); without: the default credentials only. */
  accounts?: Pick<Accounts, 'credentials'>;
  attempts?: number;
  /** Short timeouts for interactive CLI use, where AWS may be unreachable. */
  quick?: boolean;
  /**
   * Told of every attempt's outcome, by target key (`targetKey`: the region for the default
   * account), for health reporting; a throttled attempt is not told (neither success nor failure).
   */
  onAttempt?: (target: string, error: unknown | undefined) => void;
}

/**
 * LookupEvents through the AWS SDK with the SDK's own retries off, so that every attempt,
 * retries included, passes its account-region's 2-per-second limiter (each holding its slot
 * until a second after its response, so CloudTrail never sees three arrivals in one second);
 * throttling, 5xx and network errors are retried here with backoff and jitter, and credentials
 * AWS calls expired are replaced before the retry.
 */
export function createCloudTrailSource(o: LookupClientOptions): CloudTrailSource {
  const limiter = perKey(() => new SlidingWindowLimiter(o.ratePerSecond ?? 2, 1000));
  // The SDK loads on first use: commands that never reach AWS start faster.
  let sdk: Promise<typeof import('@aws-sdk/client-cloudtrail')> | undefined;
  const loadSdk = () => (sdk ??= import('@aws-sdk/client-cloudtrail'));
  const clients = targetClients(
    (target, credentials) =>
      loadSdk().then(({ CloudTrailClient }) => new CloudTrailClient(awsClientConfig(target.region, { quick: o.quick, requestTimeoutMs: 30_000, credentials }))),
    o.accounts,
  );
  return {
    async lookup(q, signal) {
      const target = { account: q.account ?? DEFAULT_ACCOUNT, region: q.region };
      const key = targetKey(target);
      const attempt = async () => {
        let client: import('@aws-sdk/client-cloudtrail').CloudTrailClient;
        try {
          client = await clients.get(target);
        } catch (err) {
          // The account's role could not be assumed: nothing was sent, no slot was taken.
          o.onAttempt?.(key, err);
          throw err;
        }
        return limiter(key).run(async () => {
          o.metrics?.lookupCalls.inc({ account: target.account, region: q.region });
          try {
            const { LookupEventsCommand } = await loadSdk();
            const out = await client.send(
              new LookupEventsCommand({
                LookupAttributes: q.attribute ? [{ AttributeKey: q.attribute.key as LookupAttributeKey, AttributeValue: q.attribute.value }] : undefined,
                StartTime: new Date(q.startMs),
                EndTime: new Date(q.endMs),
                MaxResults: 50,
                NextToken: q.nextToken,
              }),
              { abortSignal: signal },
            );
            o.onAttempt?.(key, undefined);
            return { events: out.Events ?? [], nextToken: out.NextToken };
          } catch (err) {
            // A throttled attempt says nothing either way: the target works, slowly, unless the whole cycle gives up.
            if (isThrottle(err)) {
              o.metrics?.throttles.inc({ account: target.account, region: q.region });
            } else {
              if (isExpiredCredentials(err)) clients.renew(target);
              o.onAttempt?.(key, err);
            }
            throw err;
          }
        });
      };
      return withRetry(
        attempt,
        {
          // Interactive look-ups retry a little too: another process (the running bot) may be spending the same 2/s.
          attempts: o.attempts ?? (o.quick ? 4 : 8),
          baseMs: 500,
          maxMs: 20_000,
          retryable: (err) => isRetryableAwsError(err) || isExpiredCredentials(err),
          signal,
          onRetry: (err, attempt, delayMs) =>
            o.logger.debug({ target: key, attempt, delayMs, error: (err as Error).name }, 'LookupEvents retry'),
        },
      );
    },
  };
}
