import { describe, expect, it } from 'vitest';
import { scriptVariables } from '../../executor/script-variables.js';

const vars = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, { value }]));

describe('scriptVariables', () => {
  it('passes ordinary variables, PATH included', () => {
    expect(scriptVariables(vars({ A: '1', PATH: '/opt/bin', LDAP_HOST: 'x' }))).toEqual({ passed: { A: '1', PATH: '/opt/bin', LDAP_HOST: 'x' }, skipped: [] });
  });

  it.each([['KUBE_WORKER_TICKET'], ['KUBE_WORKER_WORKSPACE'], ['KUBE_WORKER_ANYTHING'], ['LD_PRELOAD'], ['LD_LIBRARY_PATH'], ['LD_AUDIT']])(
    'does not pass %s, and says why',
    (name) => {
      const result = scriptVariables(vars({ [name]: 'x', B: '2' }));
      expect(result.passed).toEqual({ B: '2' });
      expect(result.skipped).toEqual([expect.stringContaining(`Variable ${name} is not passed`)]);
    },
  );

  it.each([
    ['an empty name', { '': 'x' }, /empty name/],
    ['a name with =', { 'A=B': 'x' }, /"A=B" has "="/],
    ['a name with NUL', { 'A\0B': 'x' }, /NUL character in its name/],
    ['a value with NUL', { SECRET: 'ab\0cd' }, /"SECRET" contains a NUL/],
  ])('refuses %s, without showing a value', (_case, variables, message) => {
    const result = scriptVariables(vars(variables));
    expect(result.refused).toMatch(message);
    expect(result.refused).not.toContain('ab\0cd');
  });
});
