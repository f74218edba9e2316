/**
 * Writes docs/block-kit-examples.md: the Slack message layouts (live feed, live alerts with their
 * buttons, thread replies, the App Home) as Block Kit JSON, made by the bot's own builders and
 * renderers from a small in-memory store, so the README's examples cannot drift from the code.
 *
 *   npm run docs:blocks            rewrite the file
 *   npm run docs:blocks -- --check exit 1 if the file is not what the code makes now (CI, tests)
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  call,
  executor,
  human,
  importNotebook,
  startCalculation,
  startSession,
  terminateSession,
  type CloudTrailRecord,
} from '../test/support/cloudtrail-records.js';
import { normaliseRecord } from '../src/records/normalise.js';
import { Store } from '../src/store/store.js';
import { buildSessionReport } from '../src/reports/session-report.js';
import { sessionFeedDocument, notebookFeedDocument, type NotebookFeedEvent } from '../src/reports/feed-document.js';
import { actionReplyDocument, alertDocument, reminderDocument, type AlertItem } from '../src/reports/alert-document.js';
import { buildHomeReport } from '../src/reports/home-report.js';
import { homeDocument } from '../src/reports/home-document.js';
import { sessionConsoleUrl } from '../src/reports/athena-links.js';
import { renderBlockKit, renderHomeView } from '../src/reports/render/block-kit.js';
import type { ReportDocument } from '../src/reports/document.js';

export const EXAMPLES_FILE = fileURLToPath(new URL('../docs/block-kit-examples.md', import.meta.url));

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-23T14:30:00Z');
const REGION = 'us-east-1';
const SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const CALC = '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5';
const OTHER_SESSION = '9cc1ebb2-aac5-b1ca-8247-5d827bd8232f';
const OTHER_CALC = '52c1ebb9-16a1-9e6d-4d4c-2c3b7a1f0d11';
const NOTEBOOK = '05f6225d-bdcc-4935-bc25-a8e19434652d';
const SPARK_UI = `https://${SESSION}.spark-ui.athena.${REGION}.amazonaws.com/?X-Amz-Expires=3600&X-Amz-Signature=example`;

/** Fixed event ids: the examples must not change from run to run. */
let seq = 0;
const id = () => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
const rec = (r: CloudTrailRecord): CloudTrailRecord => ({ ...r, eventID: id(), requestID: id() });

function exampleStore(): Store {
  seq = 0;
  const store = Store.open(':memory:');
  const records = [
    importNotebook({ notebookId: NOTEBOOK, eventTime: NOW - 80 * MINUTE, actor: human('alice', 'DataScientist'), name: 'churn-model', workGroup: 'prod-notebooks' }),
    startSession({ sessionId: SESSION, eventTime: NOW - 75 * MINUTE, actor: human('alice', 'DataScientist'), workGroup: 'prod-notebooks', maxConcurrentDpus: 20, notebookId: NOTEBOOK, idleTimeoutMinutes: 120, tags: { team: 'risk' } }),
    startCalculation({ sessionId: SESSION, calculationId: CALC, eventTime: NOW - 70 * MINUTE }),
    call('GetCalculationExecutionStatus', { actor: executor(SESSION), eventTime: NOW - MINUTE, params: { calculationExecutionId: CALC } }),
    startSession({ sessionId: OTHER_SESSION, eventTime: NOW - 50 * MINUTE, actor: human('bob', 'Analyst'), workGroup: 'adhoc', maxConcurrentDpus: 10, idleTimeoutMinutes: 120 }),
    startCalculation({ sessionId: OTHER_SESSION, calculationId: OTHER_CALC, eventTime: NOW - 40 * MINUTE }),
    call('GetCalculationExecutionStatus', { actor: executor(OTHER_SESSION), eventTime: NOW - MINUTE, params: { calculationExecutionId: OTHER_CALC } }),
  ].map(rec);
  const events = records.map((r) => {
    const n = normaliseRecord(r);
    if (n.kind !== 'event') throw new Error(`example record did not normalise: ${JSON.stringify(n)}`);
    return n.event;
  });
  store.insertEvents(events, NOW);
  store.putEnrichment({ kind: 'calculation', id: CALC, region: REGION, status: 'ok', terminal: false, payload: { state: 'RUNNING', sessionId: SESSION, submittedAt: NOW - 70 * MINUTE }, fetchedAt: NOW });
  store.putEnrichment({ kind: 'session', id: SESSION, region: REGION, status: 'ok', terminal: false, payload: { state: 'BUSY', startedAt: NOW - 75 * MINUTE, dpuExecutionMillis: 9 * 3_600_000 }, fetchedAt: NOW });
  store.putEnrichment({ kind: 'dashboard', id: SESSION, region: REGION, status: 'ok', terminal: false, payload: { url: SPARK_UI }, fetchedAt: NOW });
  return store;
}

const display = (now = NOW) => ({ timezone: 'UTC', showCallerDetails: false, now, dpuHourPriceUsd: 0.35 });
const model = (now = NOW) => ({ now, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 });

function item(store: Store, sessionId: string, calculationId: string, now = NOW): AlertItem {
  const report = buildSessionReport(store, sessionId, model(now))!;
  return {
    session: report.view,
    calculation: report.view.calculations.find((c) => c.calculationId === calculationId)!,
    confirmed: report.view.calculations.find((c) => c.calculationId === calculationId)!.confirmed,
    consoleUrl: sessionConsoleUrl(report.view),
    sparkUiUrl: report.sparkUiUrl,
  };
}

interface Example {
  title: string;
  note: string;
  json: unknown;
}

const message = (doc: ReportDocument) => renderBlockKit(doc);

/** Every example, in the order the document shows them. */
export function examples(): Example[] {
  const store = exampleStore();
  try {
    const out: Example[] = [];
    const feedReport = buildSessionReport(store, SESSION, model())!;
    out.push({ title: 'Live feed: a session, while it runs', note: 'Posted in the cycle after its StartSession is stored (FEED_CHANNEL, or the channel CHANNEL_ROUTES picks); edited in place (chat.update) when what it shows changes. Run times that still run move in five-minute steps.', json: message(sessionFeedDocument(feedReport, display())) });

    const ended = exampleStore();
    ended.insertEvents([normalised(rec(terminateSession({ sessionId: SESSION, eventTime: NOW + 10 * MINUTE, actor: human('alice', 'DataScientist') })))], NOW + 11 * MINUTE);
    ended.putEnrichment({ kind: 'session', id: SESSION, region: REGION, status: 'ok', terminal: true, payload: { state: 'TERMINATED', startedAt: NOW - 75 * MINUTE, endedAt: NOW + 10 * MINUTE, dpuExecutionMillis: 14.5 * 3_600_000 }, fetchedAt: NOW + 11 * MINUTE });
    ended.putEnrichment({ kind: 'calculation', id: CALC, region: REGION, status: 'ok', terminal: true, payload: { state: 'CANCELED', sessionId: SESSION, submittedAt: NOW - 70 * MINUTE, completedAt: NOW + 10 * MINUTE }, fetchedAt: NOW + 11 * MINUTE });
    out.push({
      title: 'Live feed: the same message after its last edit',
      note: 'Its end as Athena confirmed it (asked again when CloudTrail alone saw the end); then the message is settled and never edited again.',
      json: message(sessionFeedDocument(buildSessionReport(ended, SESSION, model(NOW + 11 * MINUTE))!, display(NOW + 11 * MINUTE))),
    });
    ended.close();

    const nb = (i: number, eventName = 'ImportNotebook'): NotebookFeedEvent => ({ eventName, principal: 'kim', principalType: 'AssumedRole', notebookId: `nb-${i}`, notebookName: `report-${i}`, workgroup: 'adhoc', account: '123456789012', region: REGION, at: NOW - (20 - i) * MINUTE });
    out.push({ title: 'Live feed: a notebook import', note: 'One line per import, creation or deletion.', json: message(notebookFeedDocument([{ ...nb(1), notebookId: NOTEBOOK, notebookName: 'churn-model', workgroup: 'prod-notebooks', principal: 'alice' }], display())) });
    out.push({ title: 'Live feed: many notebook events in one cycle', note: 'More than ten for one channel in one cycle: one grouped message.', json: message(notebookFeedDocument([...Array.from({ length: 10 }, (_, i) => nb(i)), nb(10, 'DeleteNotebook'), nb(11, 'CreateNotebook')], display())) });

    const postKey = `alert:${CALC}`;
    const running = item(store, SESSION, CALC);
    out.push({
      title: 'Alert, as posted (ACTIONS_ENABLED=true)',
      note: 'Acknowledge, Snooze 1 h / 4 h / 24 h, links to the Athena console and the Spark UI; Stop calculation and Terminate session are red and ask first. Without ACTIONS_ENABLED the second row is not there.',
      json: message(alertDocument([running], display(), 30, { postKey, actions: [], actionsEnabled: true })),
    });
    out.push({
      title: 'Alert, after Acknowledge and a Stop',
      note: 'The message says who acknowledged (no reminder follows) and what was asked of Athena; the thread has the details.',
      json: message(
        alertDocument([running], display(), 30, {
          postKey,
          actionsEnabled: true,
          acknowledged: { by: 'U0ONCALL', at: NOW - 5 * MINUTE },
          actions: [{ user: 'U0ONCALL', action: 'stop-calculation', target: CALC, status: 'done', outcome: 'Athena is stopping it (CANCELING)', at: NOW - 2 * MINUTE }],
        }),
      ),
    });
    out.push({
      title: 'Grouped alert',
      note: 'Several calculations found in one cycle: Stop/Terminate per calculation, Acknowledge and Snooze for the group.',
      json: message(alertDocument([running, item(store, OTHER_SESSION, OTHER_CALC)], display(), 30, { postKey: `alert-group:${CALC}:${NOW}`, actions: [], actionsEnabled: true })),
    });
    out.push({
      title: 'Thread reply: an action',
      note: 'Every Stop or Terminate is written in the alert’s thread: who, what, and what Athena said.',
      json: message(actionReplyDocument({ user: 'U0ONCALL', action: 'stop-calculation', target: CALC, status: 'done', outcome: 'Athena is stopping it (CANCELING)', at: NOW - 2 * MINUTE }, display())),
    });
    out.push({
      title: 'Thread reply: Athena refused',
      note: 'One line naming the permission to grant.',
      json: message(
        actionReplyDocument(
          { user: 'U0ONCALL', action: 'terminate-session', target: SESSION, status: 'denied', outcome: 'Athena refused: the bot is not allowed athena:TerminateSession here (grant it on the workgroup to use the Terminate session button)', at: NOW },
          display(),
        ),
      ),
    });
    out.push({ title: 'Thread reply: a reminder', note: 'Hourly while nobody has acknowledged (or snoozed) an alert whose calculation still runs.', json: message(reminderDocument([running], display(), 1)) });

    const home = buildHomeReport(store, { ...model(), timezone: 'UTC' });
    out.push({ title: 'App Home', note: 'Published (views.publish) when someone opens the Home tab, from the store: no AWS call on that path.', json: renderHomeView(homeDocument(home, display())) });
    return out;
  } finally {
    store.close();
  }
}

function normalised(r: CloudTrailRecord) {
  const n = normaliseRecord(r);
  if (n.kind !== 'event') throw new Error('example record did not normalise');
  return n.event;
}

/** The Markdown file, as the code makes it now. */
export function examplesMarkdown(): string {
  const parts = [
    '# Slack message layouts (Block Kit)',
    '',
    '<!-- Generated by `npm run docs:blocks` (scripts/block-kit-examples.ts) from the bot’s own builders and renderers. Do not edit by hand: a test fails when this file and the code disagree. -->',
    '',
    'Each example is what the bot sends: `text` (the notification fallback) and `blocks` for messages, the `view` for the App Home. Paste the `blocks` into Slack’s Block Kit Builder to see them. People are named by Slack user id (`<@U…>`), which Slack shows as their name.',
    '',
  ];
  for (const e of examples()) parts.push(`## ${e.title}`, '', e.note, '', '```json', JSON.stringify(e.json, null, 2), '```', '');
  return parts.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const text = examplesMarkdown();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(EXAMPLES_FILE) ? fs.readFileSync(EXAMPLES_FILE, 'utf8') : '';
    if (current !== text) {
      process.stderr.write('docs/block-kit-examples.md is out of date: run npm run docs:blocks\n');
      process.exit(1);
    }
  } else {
    fs.mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
    fs.writeFileSync(EXAMPLES_FILE, text);
    process.stdout.write(`wrote ${EXAMPLES_FILE}\n`);
  }
}
