/** Reading a Prometheus /metrics page the way a scraper would, to compare before and after. */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Samples {
  constructor(
    readonly text: string,
    private readonly samples: Sample[],
  ) {}

  /** The sum of every sample of `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
  }

  /** Whether the page declares the metric, samples or not. */
  declares(name: string, type: string): boolean {
    return this.text.includes(`# TYPE ${name} ${type}\n`);
  }
}

export function parseMetrics(text: string): Samples {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return new Samples(text, samples);
}

export async function scrape(url: string): Promise<Samples> {
  const response = await fetch(url);
  const contentType = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || !contentType.startsWith('text/plain; version=0.0.4')) {
    throw new Error(`${url} answered ${response.status} ${contentType}, not Prometheus text`);
  }
  return parseMetrics(await response.text());
}
