// The tolerant splitter of every CSV we read (the perf CSV, ours or the original's): text → records,
// each with the line it starts on. A record that cannot be read (a quote never closed, text after a
// closing quote) costs only its first line: splitting goes on at the next line, so a torn row or a
// garbage line with a stray quote never swallows the rows after it (a strict parser would glue them into
// one field). RFC 4180: `"` opens a quoted field only at its start, `""` is a quote inside one, and a
// record ends at `\n` or `\r\n` outside quotes.

/** One record of CSV text. */
export interface CsvRecord {
  /** 1-based line it starts on. */
  line: number;
  fields: string[];
  /** Whether a newline ended it (the last record of a file cut short by a crash has none). */
  terminated: boolean;
  /** Why the record cannot be read (its fields are then empty); undefined when it can. */
  problem?: string;
}

/** A quoted field from `open` (the quote); returns the field and where it ended, or a problem. */
function quotedField(
  text: string,
  open: number,
): { value: string; end: number; lines: number } | { problem: string } {
  let value = '';
  let lines = 0;
  for (let i = open + 1; ;) {
    const q = text.indexOf('"', i);
    if (q === -1) return { problem: 'a quoted field is never closed' };
    const chunk = text.slice(i, q);
    for (let n = chunk.indexOf('\n'); n !== -1; n = chunk.indexOf('\n', n + 1)) lines++;
    value += chunk;
    if (text[q + 1] === '"') {
      value += '"';
      i = q + 2;
      continue;
    }
    const next = text[q + 1];
    if (next !== undefined && next !== ',' && next !== '\n' && !(next === '\r' && text[q + 2] === '\n'))
      return {
        problem: `text after a field's closing quote: ${JSON.stringify(text.slice(Math.max(open, q - 12), q + 4))}`,
      };
    return { value, end: q + 1, lines };
  }
}

/** Parse one record from `start`; `end` is where the next record starts. */
function record(text: string, start: number, line: number): { rec: CsvRecord; end: number; lines: number } {
  const fields: string[] = [];
  let lines = 0;
  for (let i = start; ;) {
    if (text[i] === '"') {
      const q = quotedField(text, i);
      if ('problem' in q)
        return { rec: { line, fields: [], terminated: false, problem: q.problem }, end: -1, lines };
      fields.push(q.value);
      lines += q.lines;
      i = q.end;
    } else {
      let stop = i;
      while (stop < text.length && text[stop] !== ',' && text[stop] !== '\n') stop++;
      const crlf = text[stop] === '\n' && text[stop - 1] === '\r' && stop > i;
      fields.push(text.slice(i, crlf ? stop - 1 : stop));
      i = stop;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    if (i >= text.length) return { rec: { line, fields, terminated: false }, end: text.length, lines };
    if (text[i] === '\n') return { rec: { line, fields, terminated: true }, end: i + 1, lines: lines + 1 };
    i++; // the comma
    if (i >= text.length) {
      fields.push('');
      return { rec: { line, fields, terminated: false }, end: text.length, lines };
    }
  }
}

/** Every non-blank record of `text` (a leading BOM is dropped), unreadable ones with their problem. */
export function csvRecords(text: string): CsvRecord[] {
  const body = text.replace(/^\uFEFF/, '');
  const out: CsvRecord[] = [];
  let pos = 0;
  let line = 1;
  while (pos < body.length) {
    const nl = body.indexOf('\n', pos);
    const lineEnd = nl === -1 ? body.length : nl;
    if (body.slice(pos, lineEnd).trim() === '') {
      pos = lineEnd + 1;
      line++;
      continue;
    }
    const r = record(body, pos, line);
    out.push(r.rec);
    if (r.rec.problem !== undefined) {
      // Only this line is given up: the next one may be a whole row.
      r.rec.terminated = nl !== -1;
      pos = lineEnd + 1;
      line++;
    } else {
      pos = r.end;
      line += r.lines;
    }
  }
  return out;
}
