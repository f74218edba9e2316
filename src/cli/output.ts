import type { Config } from '../config/config.js';
import type { DisplayOptions, ReportDocument } from '../reports/document.js';
import { renderText } from '../reports/render/text.js';
import type { CliIO } from './io.js';

export function displayOptions(config: Pick<Config, 'digest' | 'showCallerDetails'>, now: number): DisplayOptions {
  return { timezone: config.digest.timezone, showCallerDetails: config.showCallerDetails, now };
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printDocuments(io: CliIO, docs: ReportDocument[]): void {
  io.stdout.write(docs.map(renderText).join('\n'));
}
