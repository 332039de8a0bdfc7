import { describe, expect, it } from 'vitest';
import { readHeader, spreadsheetFormat, xlsxHeader } from './spreadsheet';

/** A zip archive with stored (uncompressed) entries; CRCs are not checked by the reader. */
function storedZip(files: Record<string, string>): ArrayBuffer {
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const nameBytes = encoder.encode(name);
    const data = encoder.encode(content);
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const entry = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    entry.set(nameBytes, 46);
    locals.push(local);
    central.push(entry);
    offset += local.length;
  }
  const centralSize = central.reduce((n, e) => n + e.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, central.length, true);
  ev.setUint16(10, central.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + 22);
  let at = 0;
  for (const part of [...locals, ...central, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out.buffer;
}

const WORKBOOK = `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="People" sheetId="1" r:id="rId7"/></sheets></workbook>`;
const RELS = `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="worksheet" Target="worksheets/people.xml"/></Relationships>`;
const SHARED = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Given Name</t></si><si><r><t>E-</t></r><r><t>mail</t></r></si></sst>`;
const SHEET = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is><t> Phone </t></is></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>`;

describe('spreadsheet headers', () => {
  it('reads the first row of the first sheet of a workbook (shared and inline strings, gaps)', async () => {
    const xlsx = storedZip({
      'xl/workbook.xml': WORKBOOK,
      'xl/_rels/workbook.xml.rels': RELS,
      'xl/sharedStrings.xml': SHARED,
      'xl/worksheets/people.xml': SHEET,
    });
    expect(await xlsxHeader(xlsx)).toEqual(['Given Name', '', 'E-mail', 'Phone']);
    expect(await readHeader(new Blob(['not a zip']), 'xlsx')).toEqual([]);
  });

  it('knows CSV and XLSX files by name or type', () => {
    expect(spreadsheetFormat({ name: 'a.CSV', type: '' })).toBe('csv');
    expect(spreadsheetFormat({ name: 'export', type: 'text/csv' })).toBe('csv');
    expect(spreadsheetFormat({ name: 'a.xlsx', type: '' })).toBe('xlsx');
    expect(spreadsheetFormat({ name: 'a.xls', type: 'application/vnd.ms-excel' })).toBeNull();
  });
});
