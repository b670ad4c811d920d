/**
 * Text of an operation (its script's output, a failure message, an output variable) as it may be
 * written to a terminal: its control characters shown, not obeyed. A script could otherwise move the
 * cursor, erase what was printed, or return to the start of a line (CR) and print over it — a fake
 * `» Succeeded`, say. They are shown as `cat -v` shows them: ESC as `^[`, CR as `^M`, DEL as `^?`,
 * the C1 controls (which some terminals obey as well) as `M-^[` and so on. A tab stays a tab.
 * Text going into a pipe or a file is left as it is, for programs to read.
 */

// eslint-disable-next-line no-control-regex -- control characters are what this finds
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

const caret = (code: number): string => (code === 0x7f ? '^?' : `^${String.fromCharCode(code + 0x40)}`);

export function showControls(text: string): string {
  return text.replace(CONTROL, (char) => {
    const code = char.charCodeAt(0);
    return code >= 0x80 ? `M-${caret(code - 0x80)}` : caret(code);
  });
}

/** `text` as `stream` should receive it: controls shown on a terminal, untouched elsewhere. */
export function forStream(stream: { isTTY?: boolean }, text: string): string {
  return stream.isTTY ? showControls(text) : text;
}
