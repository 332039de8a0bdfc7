import { describe, expect, it } from 'vitest';
import { formatLatency, median } from './format';

describe('format', () => {
  it('formats latencies', () => {
    expect(formatLatency(0.4)).toBe('< 1 ms');
    expect(formatLatency(3.456)).toBe('3.5 ms');
    expect(formatLatency(120.6)).toBe('121 ms');
  });

  it('takes medians', () => {
    expect(median([])).toBeUndefined();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
