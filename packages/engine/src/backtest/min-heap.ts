/** A binary min-heap ordered by `compare` (negative = first argument first). */
export class MinHeap<T> {
  private readonly items: T[] = [];
  private readonly compare: (left: T, right: T) => number;

  constructor(compare: (left: T, right: T) => number) {
    this.compare = compare;
  }

  get size(): number {
    return this.items.length;
  }

  /** The smallest item; undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let index = items.length;
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = items[parent] as T;
      if (this.compare(item, above) >= 0) break;
      items[index] = above;
      index = parent;
    }
    items[index] = item;
  }

  /** Remove and return the smallest item; undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let index = 0;
    const length = items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.compare(items[right] as T, items[left] as T) < 0) child = right;
      const below = items[child] as T;
      if (this.compare(below, last) >= 0) break;
      items[index] = below;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

/** A binary min-heap of numbers (exact integers or any doubles), without comparator calls. */
export class NumberMinHeap {
  private items = new Float64Array(64);
  private length = 0;

  get size(): number {
    return this.length;
  }

  /** The smallest number; NaN when empty. */
  peek(): number {
    return this.length === 0 ? Number.NaN : (this.items[0] as number);
  }

  push(value: number): void {
    if (this.length === this.items.length) {
      const grown = new Float64Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    const items = this.items;
    let index = this.length++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = items[parent] as number;
      if (value >= above) break;
      items[index] = above;
      index = parent;
    }
    items[index] = value;
  }

  /** Remove and return the smallest number; NaN when empty. */
  pop(): number {
    if (this.length === 0) return Number.NaN;
    const items = this.items;
    const top = items[0] as number;
    const length = --this.length;
    if (length === 0) return top;
    const last = items[length] as number;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && (items[right] as number) < (items[left] as number)) child = right;
      const below = items[child] as number;
      if (below >= last) break;
      items[index] = below;
      index = child;
    }
    items[index] = last;
    return top;
  }
}
