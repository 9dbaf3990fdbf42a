// The tolerant CSV splitter (src/util/csv-records.ts): RFC 4180 records with the line each starts on;
// an unreadable record costs only its first line.
import { describe, expect, it } from 'vitest';
import { csvRecords } from '../../../src/util/csv-records.js';

describe('csvRecords', () => {
  it('reads quoted fields (commas, "" and newlines inside), CRLF line ends and a BOM; numbers lines', () => {
    const text = '\uFEFFa,b\r\n"x,1","say ""hi"""\r\n\r\n"two\nlines",z\nlast,row';
    expect(csvRecords(text)).toEqual([
      { line: 1, fields: ['a', 'b'], terminated: true },
      { line: 2, fields: ['x,1', 'say "hi"'], terminated: true },
      { line: 4, fields: ['two\nlines', 'z'], terminated: true },
      { line: 6, fields: ['last', 'row'], terminated: false },
    ]);
  });

  it('a quote never closed or text after a closing quote costs only that line', () => {
    const text = 'a,b\n"open,never closed\n1,2\nx,"q"junk\n3,4\n5,"torn';
    expect(csvRecords(text)).toEqual([
      { line: 1, fields: ['a', 'b'], terminated: true },
      // Its quote closes only on line 4, followed by text: only line 2 is given up.
      {
        line: 2,
        fields: [],
        terminated: true,
        problem: 'text after a field\'s closing quote: "losed\\n1,2\\nx,\\"q\\"j"',
      },
      { line: 3, fields: ['1', '2'], terminated: true },
      {
        line: 4,
        fields: [],
        terminated: true,
        problem: 'text after a field\'s closing quote: "\\"q\\"jun"',
      },
      { line: 5, fields: ['3', '4'], terminated: true },
      { line: 6, fields: [], terminated: false, problem: 'a quoted field is never closed' },
    ]);
  });

  it('a quote inside an unquoted field is text; a trailing comma is an empty last field', () => {
    expect(csvRecords('a"b,c,\n')).toEqual([{ line: 1, fields: ['a"b', 'c', ''], terminated: true }]);
    expect(csvRecords('a,')).toEqual([{ line: 1, fields: ['a', ''], terminated: false }]);
  });
});
