/**
 * The header row of a CSV or XLSX file, read in the browser so the import wizard can offer
 * the file's columns in its mapping step (the server's report names only the columns it
 * matched). Reads as little as it can: the first CSV record, or the first row of the first
 * sheet of the workbook.
 */

export type SpreadsheetFormat = 'csv' | 'xlsx';

export const CONTENT_TYPES: Record<SpreadsheetFormat, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The format of a file by its name (and type), or null when it is neither CSV nor XLSX. */
export function spreadsheetFormat(file: { name: string; type: string }): SpreadsheetFormat | null {
  const name = file.name.toLowerCase();
  if (name.endsWith('.csv') || file.type === 'text/csv') return 'csv';
  if (name.endsWith('.xlsx') || file.type === CONTENT_TYPES.xlsx) return 'xlsx';
  return null;
}

/** The first record of CSV text (RFC 4180 quoting), cells trimmed, a byte-order mark dropped. */
export function csvHeader(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  // skip blank lines before the header, as the server does
  while (i < text.length && (text[i] === '\n' || text[i] === '\r')) i++;
  for (; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell.trim());
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      break;
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells.length === 1 && cells[0] === '' ? [] : cells;
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

/** The entries of a zip archive, from its central directory. */
function zipEntries(bytes: Uint8Array<ArrayBuffer>): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error('broken zip directory');
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    entries.set(name, {
      name,
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * The text of a zip entry; with `until`, stops inflating once that string has appeared
 * (the first row of a large sheet without the rest of it).
 */
async function entryText(bytes: Uint8Array<ArrayBuffer>, entry: ZipEntry, until?: string): Promise<string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = entry.localOffset;
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return new TextDecoder().decode(data);
  if (entry.method !== 8) throw new Error(`unsupported zip compression ${String(entry.method)}`);
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    if (until && text.includes(until)) {
      await reader.cancel();
      break;
    }
  }
  return text;
}

function parseXml(text: string): Document {
  return new DOMParser().parseFromString(text, 'application/xml');
}

/** "C" → 2, "AA" → 26. */
function columnIndex(ref: string): number {
  const letters = /^[A-Z]+/.exec(ref)?.[0] ?? '';
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** The text of an element's `<t>` descendants (rich text has several runs). */
function textOf(el: Element): string {
  return Array.from(el.getElementsByTagName('t'))
    .map((t) => t.textContent)
    .join('');
}

/** The header row of an XLSX workbook's first sheet. */
export async function xlsxHeader(buffer: ArrayBuffer): Promise<string[]> {
  const bytes = new Uint8Array(buffer);
  const entries = zipEntries(bytes);
  // the first sheet in the workbook's order, through its relationship
  let sheetPath = 'xl/worksheets/sheet1.xml';
  const workbook = entries.get('xl/workbook.xml');
  const rels = entries.get('xl/_rels/workbook.xml.rels');
  if (workbook && rels) {
    const sheet = parseXml(await entryText(bytes, workbook)).getElementsByTagName('sheet')[0];
    const relId =
      sheet?.getAttribute('r:id') ??
      sheet?.getAttributeNS('http://schemas.openxmlformats.org/officeDocument/2006/relationships', 'id');
    const rel = Array.from(parseXml(await entryText(bytes, rels)).getElementsByTagName('Relationship')).find(
      (r) => r.getAttribute('Id') === relId,
    );
    const target = rel?.getAttribute('Target');
    if (target) sheetPath = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  }
  const sheet = entries.get(sheetPath);
  if (!sheet) throw new Error('the workbook has no sheet');
  const sheetText = await entryText(bytes, sheet, '</row>');
  const rowStart = sheetText.search(/<row[\s>]/);
  const rowEnd = sheetText.indexOf('</row>', rowStart);
  if (rowStart < 0 || rowEnd < 0) return [];
  const row = parseXml(sheetText.slice(rowStart, rowEnd + '</row>'.length).replace(/<row[^>]*>/, '<row>'));
  const cells = Array.from(row.getElementsByTagName('c'));
  let shared: string[] | null = null;
  const header: string[] = [];
  for (const [i, c] of cells.entries()) {
    const ref = c.getAttribute('r');
    const index = ref ? columnIndex(ref) : i;
    const type = c.getAttribute('t');
    const v = c.getElementsByTagName('v')[0]?.textContent ?? '';
    let value: string;
    if (type === 's') {
      if (!shared) {
        const sst = entries.get('xl/sharedStrings.xml');
        shared = sst
          ? Array.from(parseXml(await entryText(bytes, sst)).getElementsByTagName('si')).map(textOf)
          : [];
      }
      value = shared[Number(v)] ?? '';
    } else if (type === 'inlineStr') {
      value = textOf(c);
    } else {
      value = v;
    }
    while (header.length < index) header.push('');
    header[index] = value.trim();
  }
  return header;
}

/** The header row of a CSV or XLSX file; [] when it cannot be read (the server will say why). */
export async function readHeader(file: Blob, format: SpreadsheetFormat): Promise<string[]> {
  try {
    if (format === 'csv') {
      // the header is near the start: no need to read a 50 MB file for it
      return csvHeader(await file.slice(0, 64 * 1024).text());
    }
    return await xlsxHeader(await file.arrayBuffer());
  } catch {
    return [];
  }
}
