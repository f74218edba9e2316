import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_FILE, examples, examplesMarkdown } from '../../scripts/block-kit-examples.js';
import { validateBlocks } from '../fakes/slack-fake.js';

describe('docs/block-kit-examples.md', () => {
  it('is what the renderers make now (npm run docs:blocks rewrites it)', () => {
    expect(fs.readFileSync(EXAMPLES_FILE, 'utf8')).toBe(examplesMarkdown());
  });

  it('every example is a message or view Slack takes', () => {
    for (const e of examples()) {
      const json = e.json as { type?: string; text?: string; blocks: unknown[] };
      const errors = json.type === 'home' ? validateBlocks(json.blocks, { maxBlocks: 100, pointer: '/view/blocks' }) : validateBlocks(json.blocks);
      expect({ title: e.title, errors }).toEqual({ title: e.title, errors: [] });
      if (json.type !== 'home') expect(json.text?.length).toBeGreaterThan(0);
    }
  });
});
