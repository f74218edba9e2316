/**
 * One Athena Spark/notebook API call, normalised from a CloudTrail record. This is what
 * the store keeps and the model folds; everything else in the record is dropped, except
 * the few facts in `detail` that reports show.
 */
export interface NotebookEvent {
  eventId: string;
  eventName: string;
  /** Epoch milliseconds. */
  eventTime: number;
  region: string;
  /** The account the call was made in (`recipientAccountId`, else the caller's account). */
  account: string | null;
  /** Lower-cased; from the request, StartSession's response, or the AthenaExecutor-<id> caller. */
  sessionId: string | null;
  calculationId: string | null;
  notebookId: string | null;
  workgroup: string | null;
  /**
   * Readable principal: the IAM user name, role session name, federated user name, the AWS
   * service (`invokedBy`), `account <id>` for another account, an Identity Center user id.
   */
  principal: string;
  /** CloudTrail's `userIdentity.type` (AssumedRole, IAMUser, IdentityCenterUser…), `AWSService` for a bare `invokedBy`. */
  principalType: string | null;
  principalArn: string | null;
  errorCode: string | null;
  readOnly: boolean;
  /** Made with athena-session-bot's own user agent (any version): one of the bot's own calls. */
  botAgent: boolean;
  detail: EventDetail;
}

export interface EventDetail {
  state?: string;
  maxConcurrentDpus?: number;
  coordinatorDpuSize?: number;
  defaultExecutorDpuSize?: number;
  idleTimeoutMinutes?: number;
  notebookVersion?: string;
  notebookName?: string;
  notebookType?: string;
  /** StartSession's tags (`requestParameters.tags`), key → value. */
  tags?: Record<string, string>;
  errorMessage?: string;
  sourceIp?: string;
  accessKeyId?: string;
}
