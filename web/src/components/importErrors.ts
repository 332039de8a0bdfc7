/** One bad cell of an imported file: its spreadsheet row (1 = the header), column and reason. */
export interface CellError {
  row: number;
  column: string;
  message: string;
}

/** Errors shown per page of the error report. */
export const ERRORS_PER_PAGE = 50;

/** The report as CSV (row, column, reason), quoted where needed. */
export function cellErrorsCsv(errors: readonly CellError[]): string {
  const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [
    'row,column,reason',
    ...errors.map((e) => [String(e.row), quote(e.column), quote(e.message)].join(',')),
  ].join('\n');
}
