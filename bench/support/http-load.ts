/**
 * The one load generator for both HTTP targets: autocannon, posting the same operation with the
 * same headers over keep-alive connections on 127.0.0.1.
 */
import autocannon from 'autocannon';
import { toFigures, type Figures } from './figures.js';
import { OPERATION, SUBMIT_PATH, TOKEN } from './operation.js';

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Requests per second offered across all connections; unset = as fast as the server answers. */
  overallRate?: number;
}

const BODY = JSON.stringify(OPERATION);

export function loadHttp(baseUrl: string, options: LoadOptions): Promise<Figures> {
  // autocannon's own histogram keeps whole milliseconds, too coarse for a 2 ms median, so each
  // response time is kept here as measured.
  const latencies: number[] = [];
  let failed = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${baseUrl}${SUBMIT_PATH}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: BODY,
        connections: options.connections,
        duration: options.seconds,
        ...(options.overallRate
          ? {
              overallRate: options.overallRate,
              // Its correction assumes a 1 ms interval between requests whatever the rate, so it
              // would invent samples; the latencies kept here are the measured ones.
              ignoreCoordinatedOmission: true,
            }
          : {}),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve(toFigures(latencies, result.duration, failed + result.errors + result.timeouts));
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failed += 1;
    });
  });
}
