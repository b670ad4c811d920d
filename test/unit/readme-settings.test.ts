import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../core/config.js';
import { defaultText } from '../../core/config-parsers.js';

describe('the README settings table', () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('<!-- settings:start -->'), readme.indexOf('<!-- settings:end -->'));

  it.each(SETTINGS.map((s) => [s.env, defaultText(s), s.description]))('documents %s with its default and meaning', (env, defaultText, description) => {
    expect(table).toContain(`| \`${env}\` | ${defaultText} | ${description} |`);
  });
});
