/** Cuts a byte stream into lines (UTF-8 safe across chunks); the last, unterminated piece is kept. */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest: Buffer = Buffer.alloc(0);
  return (chunk) => {
    rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    for (let nl = rest.indexOf(0x0a); nl >= 0; nl = rest.indexOf(0x0a)) {
      onLine(rest.subarray(0, nl).toString('utf8').replace(/\r$/, ''));
      rest = rest.subarray(nl + 1);
    }
  };
}
