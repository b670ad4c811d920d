/**
 * An API client that never waits for ever: every request carries a timeout, and what came back —
 * an answer, a refused or broken connection, or nothing in time — is an outcome to count.
 */
import { TOKEN } from './cli-process.js';

export type Outcome = { kind: 'answer'; status: number; body: unknown } | { kind: 'timeout' } | { kind: 'connection'; message: string };

/** How long a request may take before the test counts it as a hang. */
export const CLIENT_TIMEOUT_MS = 5_000;

export async function call(baseUrl: string, method: string, route: string, body?: unknown, timeoutMs = CLIENT_TIMEOUT_MS): Promise<Outcome> {
  try {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON; the text is the body.
    }
    return { kind: 'answer', status: response.status, body: parsed };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return { kind: 'timeout' };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'connection', message: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/** "202", "503", "timeout", "connection": how outcomes are tallied. */
export const outcomeName = (outcome: Outcome): string => (outcome.kind === 'answer' ? String(outcome.status) : outcome.kind);
