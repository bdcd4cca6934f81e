/** One authority hands out unique value and node names for a whole model (all graphs and functions). */
export class NameAuthority {
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();

  register(name: string): void {
    if (name) this.used.add(name);
  }

  has(name: string): boolean {
    return this.used.has(name);
  }

  /** `base` if free, else `base_1`, `base_2`, ...; the name is reserved. */
  fresh(base: string): string {
    const stem = base || 'v';
    if (!this.used.has(stem)) {
      this.used.add(stem);
      return stem;
    }
    let i = this.counters.get(stem) ?? 1;
    while (this.used.has(`${stem}_${i}`)) i++;
    this.counters.set(stem, i + 1);
    const name = `${stem}_${i}`;
    this.used.add(name);
    return name;
  }
}
