/** The CloudTrail `eventSource` of every Athena API call. */
export const ATHENA_EVENT_SOURCE = 'athena.amazonaws.com';

/**
 * Athena's Apache Spark and notebook operations (SPEC §1). Both engines are covered:
 * the PySpark engine uses notebooks and calculations; Apache Spark 3.5 sessions are
 * reached through Spark Connect, which shows up as `GetSessionEndpoint`.
 */
export const SPARK_EVENT_NAMES = [
  'StartSession',
  'TerminateSession',
  'GetSession',
  'GetSessionStatus',
  'ListSessions',
  'GetSessionEndpoint',
  'ListExecutors',
  'StartCalculationExecution',
  'StopCalculationExecution',
  'GetCalculationExecution',
  'GetCalculationExecutionStatus',
  'GetCalculationExecutionCode',
  'ListCalculationExecutions',
  'CreateNotebook',
  'ImportNotebook',
  'UpdateNotebook',
  'UpdateNotebookMetadata',
  'DeleteNotebook',
  'ExportNotebook',
  'GetNotebookMetadata',
  'ListNotebookMetadata',
  'ListNotebookSessions',
  'CreatePresignedNotebookUrl',
] as const;

export type SparkEventName = (typeof SPARK_EVENT_NAMES)[number];

const sparkEventNames: ReadonlySet<string> = new Set(SPARK_EVENT_NAMES);

export function isSparkEventName(name: string): name is SparkEventName {
  return sparkEventNames.has(name);
}

/** Role session name Athena gives calls made from inside a notebook session. */
export const EXECUTOR_PREFIX = 'AthenaExecutor-';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SPEC §2: 8-4-4-4-12 hexadecimal digits with dashes, case-insensitive. */
export function isWellFormedSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}
