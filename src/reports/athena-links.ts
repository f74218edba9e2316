/**
 * Where a session lives in AWS, built in one place: the console page a person opens and the ARN
 * Athena's GetResourceDashboard takes. Pure: no call is made here.
 */

const partitionOf = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

function consoleHost(region: string): string {
  const partition = partitionOf(region);
  if (partition === 'aws-cn') return 'console.amazonaws.cn';
  if (partition === 'aws-us-gov') return 'console.amazonaws-us-gov.com';
  return `${region}.console.aws.amazon.com`;
}

/** The session's page in the Athena console (its work group's session details). */
export function sessionConsoleUrl(s: { region: string; workgroup: string | null; sessionId: string }): string | null {
  if (!s.workgroup || s.region === 'unknown') return null;
  return `https://${consoleHost(s.region)}/athena/home?region=${s.region}#/workgroups/details/${encodeURIComponent(s.workgroup)}/sessions/details/${s.sessionId}`;
}

/** The ARN of a session, as GetResourceDashboard takes it. */
export function sessionArn(s: { region: string; account: string | null; workgroup: string | null; sessionId: string }): string | null {
  if (!s.account || !s.workgroup || s.region === 'unknown') return null;
  return `arn:${partitionOf(s.region)}:athena:${s.region}:${s.account}:workgroup/${s.workgroup}/session/${s.sessionId}`;
}
