import { createRequire } from 'node:module';

/** The program's version, from package.json (one level above both src/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** The user agent every AWS client sends, so CloudTrail records of the bot's own calls can be told apart (SPEC §2). */
export const USER_AGENT = `athena-session-bot/${VERSION}`;
