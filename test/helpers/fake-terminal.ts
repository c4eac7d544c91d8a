/**
 * A terminal's output side for tests that render the live UI in-process: Ink writes to it as
 * to a 100×30 TTY, and the test reads back what was drawn without escape sequences; the
 * keyboard is a raw-mode TTY input the test types into.
 */
import { PassThrough, Writable } from 'node:stream';

/** A terminal's output side: records everything, 100×30. */
export class FakeTerminal extends Writable {
  text = '';
  readonly isTTY = true;
  columns = 100;
  rows = 30;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  /** What was drawn since `from`, without escape sequences. */
  plain(from = 0): string {
    // eslint-disable-next-line no-control-regex
    return this.text.slice(from).replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  }
}

/** A terminal's input side in raw mode: what the test writes arrives as keystrokes. */
export function fakeKeyboard(): NodeJS.ReadStream & PassThrough {
  const s = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough & { isTTY: boolean };
  s.isTTY = true;
  s.setRawMode = () => s;
  s.ref = () => s;
  s.unref = () => s;
  return s;
}
