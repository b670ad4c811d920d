import { describe, expect, it } from 'vitest';
import { instanceSelector, jobName, LABEL_INSTANCE, ticketLabel } from '../../executor/kubernetes/names.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('job names', () => {
  it.each([
    ['kw', 'deploy-42-step-3'],
    ['kw', 'UPPER_case_Ticket'],
    ['release-a', 'a'.repeat(63)],
    ['release-a', 'x'],
    ['r'.repeat(63), '__--'],
    ['kw', 'ünïcode/🙂'],
  ])('derives a DNS label of at most 63 characters for instance %s and ticket %s, the same every time', (instance, ticket) => {
    const name = jobName(instance, ticket);
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(jobName(instance, ticket)).toBe(name);
  });

  it.each([
    ['Deploy-1', 'deploy-1'],
    ['a_b', 'a-b'],
    ['x', 'x-'],
  ])('never gives tickets %s and %s of one instance the same name', (one, other) => {
    expect(jobName('kw', one)).not.toBe(jobName('kw', other));
  });

  it.each([
    ['kw', 'kw2'],
    ['release-a', 'release-b'],
    ['team', 'team-a'],
    ['a', 'A'],
  ])('never gives the same ticket the same name in instances %s and %s', (one, other) => {
    for (const ticket of ['deploy-42', 'a'.repeat(63), 'x']) expect(jobName(one, ticket)).not.toBe(jobName(other, ticket));
  });

  it('makes a valid label value from any ticket', () => {
    for (const ticket of ['abc', 'a_', 'A-b_c', 'z-'.repeat(31) + 'z']) {
      expect(ticketLabel(ticket)).toMatch(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/);
    }
  });
});

describe('the selector of an instance', () => {
  it.each(['kw', 'release-a', 'team_a.1'])('selects kube-worker objects of instance %s only', (instance) => {
    const terms = instanceSelector(instance).split(',');
    expect(terms).toContain('app.kubernetes.io/managed-by=kube-worker');
    expect(terms).toContain(`${LABEL_INSTANCE}=${instance}`);
    expect(terms).toHaveLength(2);
  });
});
