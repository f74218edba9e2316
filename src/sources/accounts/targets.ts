/**
 * Where the bot's AWS calls go: an account × region. Each target has its own CloudTrail rate
 * limit (2 LookupEvents per second), its own poll cursor, its own health line and its own SDK
 * clients, signed with its account's credentials.
 */
export interface AwsTarget {
  /** A 12-digit account id, or DEFAULT_ACCOUNT for the account of the default credentials. */
  account: string;
  region: string;
}

/**
 * The account of the default credentials (no AWS_ROLE_ARNS): its id may not be known (STS
 * unreachable), and a store kept by an earlier single-account version keys its cursors so.
 */
export const DEFAULT_ACCOUNT = '';

/** A target's key and label: `us-east-1` for the default account, `111122223333/us-east-1` for a role's. */
export function targetKey(t: AwsTarget): string {
  return t.account === DEFAULT_ACCOUNT ? t.region : `${t.account}/${t.region}`;
}

/** A target as log fields: `{ region }` for the default account, `{ account, region }` for a role's. */
export function targetFields(t: AwsTarget): { account?: string; region: string } {
  return t.account === DEFAULT_ACCOUNT ? { region: t.region } : { account: t.account, region: t.region };
}

/** The default credentials' targets: one per region. */
export function defaultTargets(regions: readonly string[]): AwsTarget[] {
  return regions.map((region) => ({ account: DEFAULT_ACCOUNT, region }));
}

/** The account of an IAM role ARN (`arn:aws:iam::111122223333:role/…`). */
export function accountOfRoleArn(roleArn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}
