/** A set of callbacks per key; `emit` isolates listeners so one throwing cannot starve the others. */
export class Listeners<K extends string, V> {
  private readonly byKey = new Map<K, Set<(value: V) => void>>();

  add(key: K, cb: (value: V) => void): () => void {
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(cb);
    return () => {
      set.delete(cb);
    };
  }

  emit(key: K, value: V): void {
    for (const cb of [...(this.byKey.get(key) ?? [])]) {
      try {
        cb(value);
      } catch (err) {
        // A UI bug in one listener: report it, keep delivering to the rest.
        console.error(`listener for ${key} failed`, err);
      }
    }
  }
}
