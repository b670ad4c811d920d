/**
 * HTTP as a misbehaving client speaks it, on a plain socket: headers fetch would merge or refuse,
 * and bodies that never arrive.
 */
import net from 'node:net';

export interface RawExchange {
  /** Everything the server sent until it closed the connection. */
  text: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (we never do). */
  closedByServer: boolean;
}

export interface OpenRequest {
  /** The first bytes of the answer, as soon as they arrive. */
  answered: Promise<string>;
  /** The whole exchange, once the server closes the connection. */
  closed: Promise<RawExchange>;
  destroy(): void;
}

function parse(text: string, closedByServer: boolean): RawExchange {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { text, status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), closedByServer };
}

/** Sends `head` (request line and headers, without the blank line) and `body`, and never anything more. */
export function openRequest(url: string, head: string, body = ''): OpenRequest {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.write(`${head}\r\n\r\n${body}`);
  let text = '';
  let markAnswered: (text: string) => void = () => undefined;
  const answered = new Promise<string>((resolve) => (markAnswered = resolve));
  const closed = new Promise<RawExchange>((resolve, reject) => {
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      markAnswered(text);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => resolve(parse(text, true)));
  });
  return { answered, closed, destroy: () => socket.destroy() };
}

/** One whole request; resolves when the server closes the connection (send `Connection: close`). */
export const rawRequest = (url: string, head: string, body = ''): Promise<RawExchange> => openRequest(url, head, body).closed;
