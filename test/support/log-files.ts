import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Store } from '../../src/store/store.js';
import { call, executor, fakeUuid, human, importNotebook, startCalculation, startSession, terminateSession, type CloudTrailRecord } from './cloudtrail-records.js';

/** A varied day: sessions with calculations, status polls, a named notebook, failed calls. */
export function variedDay(sessions: number): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  const t0 = Date.parse('2026-11-02T08:00:00Z');
  for (let s = 0; s < sessions; s++) {
    const sid = fakeUuid();
    const at = (m: number) => t0 + s * 60_000 + m * 1000;
    const notebookId = fakeUuid();
    out.push(importNotebook({ notebookId, eventTime: at(0), actor: human(`analyst-${s % 3}`), name: `nb-${s}` }));
    out.push(startSession({ sessionId: sid, eventTime: at(1), actor: human(`analyst-${s % 3}`), notebookId }));
    for (let c = 0; c < 3; c++) {
      const calculationId = fakeUuid();
      out.push(startCalculation({ sessionId: sid, calculationId, eventTime: at(2 + c), actor: executor(sid) }));
      for (let p = 0; p < 4; p++) out.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: at(3 + c + p), params: { calculationExecutionId: calculationId } }));
    }
    if (s % 4 === 0) out.push(call('StartSession', { actor: human('intern'), eventTime: at(5), errorCode: 'AccessDeniedException', params: { workGroup: 'prod' } }));
    out.push(terminateSession({ sessionId: sid, eventTime: at(30) }));
  }
  return out;
}

/** Writes records as gzipped S3 log files of `perFile` records each, plus one malformed element per file. */
export function writeGzippedLogs(dir: string, records: CloudTrailRecord[], perFile: number): string {
  const logs = path.join(dir, 'AWSLogs');
  fs.mkdirSync(logs, { recursive: true });
  for (let i = 0; i * perFile < records.length; i++) {
    const items: unknown[] = records.slice(i * perFile, (i + 1) * perFile);
    items.push({ eventVersion: '1.08', eventSource: 'athena.amazonaws.com', eventName: 'StartSession', eventTime: '2026-11-02T08:00:00Z', awsRegion: 'us-east-1', note: `bad-${i}` });
    fs.writeFileSync(path.join(logs, `${String(i).padStart(4, '0')}.json.gz`), zlib.gzipSync(JSON.stringify({ Records: items })));
  }
  return logs;
}

/** Every stored record row but its ingestion time, in eventID order: for comparing two stores. */
export const storedRows = (store: Store) =>
  store.db
    .prepare('SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail FROM all_records ORDER BY event_id')
    .raw()
    .all();
